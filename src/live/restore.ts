// `bluegreen rollback` (and a new rollout) on a dead live rollout: tell every proxy to serve blue now, rather
// than waiting for its lease. A proxy that does not answer is on blue by its lease already (or will be within
// it), unless the dead rollout had begun promoting: a promotion has no lease, so such a proxy may serve green
// until someone tells it otherwise. Only the dead run's own route is undone (recovery-step.ts): a proxy whose route
// another rollout run set (its live stage, its completed promotion), or an operator by hand, is left as it is, unless
// the operator forces blue (`bluegreen rollback --force-blue`, as a PUT by hand: no controller, it always goes).
import { oneLine } from '../core/format.js';
import { MAX_ROUTE_REASON } from '../proxy/route.js';
import { UsageError } from '../core/exit.js';
import type { Plan } from '../plan/plan.js';
import type { RolloutSnapshot } from '../engine/types.js';
import { AdminCallError, AdminClient, tokenRefusal, type RouteAnswer } from './admin-client.js';
import { deadRunOf, forceBlue, recoveryStep, type DeadRun, type RecoveryStep } from './recovery-step.js';
import { backByLease } from './lease-words.js';
import { recordedLeases, recordedProxies } from './recorded-proxies.js';
import { cannotTell } from './admin-token.js';
import { recoveryTargets } from './recovery-targets.js';
import { blueNotSaved, isUnsaved } from './unsaved-words.js';

export interface ProxyTold {
  /** The proxy is on blue, or will be by its lease; false when it may keep serving green. */
  ok: boolean;
  /** Told to serve blue (it answered). */
  told: boolean;
  /** It answered and refused the admin token: the operator's to fix, as an unset one is (see tokenRefused). */
  tokenRefused?: boolean;
  /** Left as it is: another rollout run's route, or one set by hand (nothing of the dead run's there to undo). */
  left?: boolean;
  /** Already on blue, and not the dead run's route: nothing sent. */
  alreadyBlue?: boolean;
  message: string;
}

export interface ToBlueOptions {
  /** The dead rollout may have promoted some proxy (no lease): one not told may serve green for good. */
  promotionBegun?: boolean;
  /**
   * The dead run (its ids from state.json's liveResume); absent, or without ids, in a record from before they were
   * kept, whose proxies are all put on blue by hand, as then.
   */
  dead?: DeadRun;
  /** `--force-blue`: blue by hand on every proxy, whoever set its route. */
  force?: boolean;
  /** The admin URLs the dead run drove (recovery-targets.ts recordedProxies), told besides the plan's. */
  recorded?: readonly string[];
  /** Each proxy's last lease the dead run saw (recovery-targets.ts recordedLeases): said for one not told. */
  leases?: ReadonlyMap<string, number>;
  /** The rollout ended (`--force-blue` after its end) rather than died: its leases are its last record, not a dead run's. */
  ended?: boolean;
  /** The clock a lease is said against (past or to come); Date.now when absent. */
  now?: () => number;
  /**
   * What each proxy answered the token check (tokenChecked), by admin URL: used instead of asking again, so a proxy
   * that does not answer costs its timeout once. A route another run set since is still kept: its PUT is refused (409).
   */
  reads?: RouteReads;
}

/** Each proxy's answer to GET /admin/route, or why it gave none, by the admin URL it was asked at. */
export type RouteReads = ReadonlyMap<string, RouteAnswer | Error>;

/** live.json is saved at each poll of the proxies: a renewal the run sent after its last save holds a proxy longer. */
const LEASE_SOURCE = " by the dead rollout's last record of it (a renewal it sent after that holds it longer)";
/** An ended rollout saved live.json as it ended: no renewal came after. */
const ENDED_LEASE_SOURCE = " by the rollout's last record of it";

export interface ToBlue {
  proxies: ProxyTold[];
  /** Which proxies came from the dead run's record and which from the plan, when those differ. */
  note?: string;
}

/** What state.json (and live.json) say of the dead run: its ids and the proxies it drove, as the two below take them. */
export function deadRunRecord(snapshot: RolloutSnapshot, stateDir: string): Required<Pick<ToBlueOptions, 'dead' | 'recorded' | 'leases'>> {
  return { dead: deadRunOf(snapshot, stateDir), recorded: recordedProxies(stateDir, snapshot), leases: recordedLeases(stateDir, snapshot) };
}

/**
 * Tells every proxy of `plan` (and every proxy the dead run recorded) to serve blue (see ToBlueOptions). Without
 * the admin token nothing is done: a UsageError says to set it, before anything is marked, so the rollback can be
 * run again with it.
 */
export async function proxiesToBlue(plan: Plan, stateDir: string, env: NodeJS.ProcessEnv, reason: string, options: ToBlueOptions = {}): Promise<ToBlue> {
  const { promotionBegun = false } = options;
  const dead = options.force === true || options.dead === undefined || options.dead.runs.length === 0 ? undefined : options.dead;
  const now = options.now ?? Date.now;
  const untold = (what: string, url?: string): string =>
    promotionBegun
      ? `${what}; the rollout died after it began promoting green, which has no lease: it may serve green until told, so check its route by hand (GET /admin/route) and run bluegreen rollback again once it answers`
      : `${what}; ${backByLease(url === undefined ? undefined : options.leases?.get(url), now(), options.ended === true ? ENDED_LEASE_SOURCE : LEASE_SOURCE)}`;
  let targets: { urls: string[]; token: string; note?: string };
  try {
    targets = recoveryTargets(plan, stateDir, env, options.recorded ?? []);
  } catch (error) {
    // The token is the operator's to set: nothing is marked, so the rollback can simply be run again with it.
    if (error instanceof UsageError) throw cannotTell(error);
    return { proxies: [{ ok: !promotionBegun, told: false, message: untold(`proxies not told (${(error as Error).message})`) }] };
  }
  const proxies = await Promise.all(
    targets.urls.map(async (url): Promise<ProxyTold> => {
      const client = new AdminClient({ url, token: targets.token });
      const blue = { greenWeight: 0, mirror: 0, reason: oneLine(`rollback: ${reason}`, MAX_ROUTE_REASON) };
      const checked = options.reads?.get(url);
      try {
        // A proxy silent through the token check's whole timeout is not asked again (its timeout twice) before the
        // rollback goes on; one that failed at once (refused while it restarts, a gateway's 502) is asked again.
        if (checked instanceof AdminCallError && checked.timedOut) throw checked;
        const read = checked instanceof Error ? undefined : checked;
        if (dead === undefined) await client.setRoute(blue);
        else {
          const { route, effective, now, unsaved } = read ?? (await client.getRoute());
          const step = recoveryStep(route, effective, now, dead, unsaved);
          if (step.kind !== 'blue')
            return { ok: true, told: false, ...(step.kind === 'left' ? { left: true } : { alreadyBlue: true }), message: `proxy ${client.url}: ${step.what}` };
          await client.setRoute({ ...blue, ...step.ending });
        }
        return { ok: true, told: true, message: `proxy ${client.url}: back on blue` };
      } catch (error) {
        // Another run's route came between the read and the blue (its first route, its promotion): the proxy keeps it.
        if (error instanceof AdminCallError && error.status === 409 && dead !== undefined)
          return { ok: true, told: false, left: true, message: `proxy ${client.url}: left as it is: ${error.message}; ${forceBlue(dead.stateDir)}` };
        if (error instanceof AdminCallError && error.tokenRefused)
          return { ok: false, told: false, tokenRefused: true, message: `proxy ${client.url} ${tokenRefusal(error, plan.proxy?.admin?.token_env)}` };
        // Blue is in force but not saved: its answer says what a restart would serve (a promotion saved there, say),
        // in one line as a rollout's own rollback says it; a proxy before session 30, in its whole message.
        if (isUnsaved(error)) {
          const blue = blueNotSaved(error);
          if (error.unsaved !== undefined) return { ok: blue.holds, told: blue.holds, message: `proxy ${client.url}: ${blue.message}` };
          return {
            ok: !promotionBegun,
            told: false,
            message: `proxy ${client.url}: ${blue.message}${promotionBegun ? '; run bluegreen rollback again once its state folder is freed' : ''}`,
          };
        }
        return { ok: !promotionBegun, told: false, message: untold(`proxy ${client.url}: ${(error as Error).message}`, url) };
      } finally {
        await client.close();
      }
    }),
  );
  return { proxies, ...(targets.note !== undefined && { note: targets.note }) };
}

export interface RecoveryPreview {
  /** One line a proxy (the lists' difference first, when they differ). */
  lines: string[];
  /** Every proxy would be left to another rollout run or an operator. */
  everyProxyLeft: boolean;
}

/** What the recovery would do with each proxy, read only (`rollout --dry-run` on a folder whose rollout died). */
export async function recoveryPreview(
  plan: Plan,
  stateDir: string,
  env: NodeJS.ProcessEnv,
  options: Pick<ToBlueOptions, 'dead' | 'recorded'>,
): Promise<RecoveryPreview> {
  const targets = recoveryTargets(plan, stateDir, env, options.recorded ?? []);
  const dead = options.dead !== undefined && options.dead.runs.length > 0 ? options.dead : undefined;
  const steps = await Promise.all(
    targets.urls.map(async (url): Promise<{ line: string; left: boolean }> => {
      const client = new AdminClient({ url, token: targets.token });
      try {
        if (dead === undefined)
          return { line: `proxy ${client.url}: would be put on blue by hand (the record keeps no run ids to tell its routes from others')`, left: false };
        const { route, effective, now, unsaved } = await client.getRoute();
        const step = recoveryStep(route, effective, now, dead, unsaved);
        return { line: `proxy ${client.url}: ${previewOf(step)}`, left: step.kind === 'left' };
      } catch (error) {
        return {
          line: `proxy ${client.url}: not answering now (${(error as Error).message}); a real run tells it blue if it answers then, else leaves it to its lease`,
          left: false,
        };
      } finally {
        await client.close();
      }
    }),
  );
  const lines = steps.map((step) => step.line);
  return { lines: targets.note === undefined ? lines : [targets.note, ...lines], everyProxyLeft: steps.length > 0 && steps.every((step) => step.left) };
}

function previewOf(step: RecoveryStep): string {
  if (step.kind === 'blue') return `would be put back on blue: ${step.what}`;
  if (step.kind === 'already_blue') return `nothing to do: ${step.what}`;
  return `would be ${step.what}`;
}

/**
 * Why the rollback cannot go on when a proxy refused the admin token, or undefined: as with an unset token, the
 * operator sets the right one and runs it again (exit 2), rather than have a rollback "succeed" (exit 0) on a lease
 * it could not check. The proxies that took blue are said, so no one thinks nothing moved.
 */
export function tokenRefusedProblem(plan: Plan, proxies: readonly ProxyTold[], options: { before?: boolean } = {}): string | undefined {
  const refused = proxies.filter((proxy) => proxy.tokenRefused);
  if (refused.length === 0) return undefined;
  const which = refused.length === proxies.length ? "the rollout's proxies" : `${refused.length} of the rollout's ${proxies.length} proxies`;
  const variable = plan.proxy?.admin?.token_env ?? 'proxy.admin.token_env';
  const told = proxies.filter((proxy) => proxy.told).length;
  const others = told === 0 ? '' : `; the other ${told === 1 ? 'one is' : `${told} are`} back on blue`;
  // Asked before anything was done (tokenChecked): said as an unset token is (admin-token.ts cannotTell).
  const end = options.before === true ? '; nothing was changed' : `${others}; no hook was run and the rollout is still marked unfinished`;
  return (
    `cannot tell ${which} to serve blue: ${refused.map((proxy) => proxy.message).join('; ')}: set ${variable} to the admin token the proxies were started with ` +
    `and run bluegreen rollback again${end}`
  );
}

/**
 * Before a recovery does anything (stops a hook the dead run left running, tells a proxy blue): each proxy it would
 * tell is asked once (GET /admin/route, read only) whether it takes the admin token. A refusal (401, or 403 from a
 * gateway) is the operator's to fix, as an unset token is: `refused` says why the recovery is refused with nothing
 * changed, where it used to be found only after that hook was stopped and the other proxies told. A proxy that does
 * not answer is no refusal: putting traffic back on blue without it is what the recovery is for (its lease, above).
 * `reads`, each proxy's answer, is what proxiesToBlue goes on from (ToBlueOptions.reads): one round of reads, not two.
 */
export async function tokenChecked(
  plan: Plan,
  stateDir: string,
  env: NodeJS.ProcessEnv,
  recorded: readonly string[],
): Promise<{ refused?: string; reads: RouteReads }> {
  let targets: { urls: string[]; token: string };
  try {
    targets = recoveryTargets(plan, stateDir, env, recorded);
  } catch (error) {
    if (error instanceof UsageError) throw cannotTell(error);
    // No proxy to ask: proxiesToBlue says so, in the recovery's words.
    return { reads: new Map() };
  }
  const reads = new Map<string, RouteAnswer | Error>();
  const asked = await Promise.all(
    targets.urls.map(async (url): Promise<ProxyTold> => {
      const client = new AdminClient({ url, token: targets.token });
      try {
        reads.set(url, await client.getRoute());
        return { ok: true, told: false, message: `proxy ${client.url}: takes the admin token` };
      } catch (error) {
        reads.set(url, error instanceof Error ? error : new Error(String(error)));
        if (error instanceof AdminCallError && error.tokenRefused)
          return { ok: false, told: false, tokenRefused: true, message: `proxy ${client.url} ${tokenRefusal(error, plan.proxy?.admin?.token_env)}` };
        return { ok: true, told: false, message: `proxy ${client.url}: not asked (${(error as Error).message})` };
      } finally {
        await client.close();
      }
    }),
  );
  const refused = tokenRefusedProblem(plan, asked, { before: true });
  return { reads, ...(refused !== undefined && { refused }) };
}
