// `bluegreen rollback` (and a new rollout) on a dead live rollout: tell every proxy to serve blue now, rather
// than waiting for its lease. A proxy that does not answer is on blue by its lease already (or will be within
// it), unless the dead rollout had begun promoting: a promotion has no lease, so such a proxy may serve green
// until someone tells it otherwise. Only the dead run's own route is undone: a proxy whose route another rollout run
// set since (its live stage, its completed promotion) is that run's, and left as it is, unless the operator forces
// blue (`bluegreen rollback --force-blue`, as a PUT by hand: no controller, it always goes).
import { UsageError } from '../core/exit.js';
import type { Plan } from '../plan/plan.js';
import { describeRoute, type Route } from '../proxy/route.js';
import { holderOf, leaseHeld } from '../proxy/route-claims.js';
import { AdminCallError, AdminClient, tokenRefusal, type RouteSet } from './admin-client.js';
import { liveTargets } from './controller.js';

export interface ProxyTold {
  /** The proxy is on blue, or will be by its lease; false when it may keep serving green. */
  ok: boolean;
  /** Told to serve blue (it answered). */
  told: boolean;
  /** It answered and refused the admin token: the operator's to fix, as an unset one is (see tokenRefused). */
  tokenRefused?: boolean;
  /** Left as it is: another rollout run set its route since the dead run's (nothing of the dead run's there to undo). */
  left?: boolean;
  message: string;
}

export interface ToBlueOptions {
  /** The dead rollout may have promoted some proxy (no lease): one not told may serve green for good. */
  promotionBegun?: boolean;
  /**
   * The dead run's controller ids (state.json's liveResume: its own last, the runs it resumed before it); absent
   * in a record from before they were kept, whose proxies are all put on blue by hand, as then.
   */
  runs?: readonly string[];
  /** `--force-blue`: blue by hand on every proxy, whoever set its route since. */
  force?: boolean;
}

/**
 * Tells every proxy of `plan` to serve blue (see ToBlueOptions). Without the admin token nothing is done: a
 * UsageError says to set it, before anything is marked, so the rollback can be run again with it.
 */
export async function proxiesToBlue(plan: Plan, stateDir: string, env: NodeJS.ProcessEnv, reason: string, options: ToBlueOptions = {}): Promise<ProxyTold[]> {
  const { promotionBegun = false } = options;
  const runs = options.force === true ? undefined : options.runs?.filter((id) => id !== '');
  const untold = (what: string): string =>
    promotionBegun
      ? `${what}; the rollout died after it began promoting green, which has no lease: it may serve green until told, so check its route by hand (GET /admin/route) and run bluegreen rollback again once it answers`
      : `${what}; it returns to blue when its lease runs out`;
  let targets: { urls: string[]; token: string };
  try {
    targets = liveTargets(plan, stateDir, env);
  } catch (error) {
    // The token is the operator's to set: nothing is marked, so the rollback can simply be run again with it.
    if (error instanceof UsageError) throw new UsageError(`cannot tell the rollout's proxies to serve blue: ${error.message}; nothing was changed`);
    return [{ ok: !promotionBegun, told: false, message: untold(`proxies not told (${(error as Error).message})`) }];
  }
  return Promise.all(
    targets.urls.map(async (url): Promise<ProxyTold> => {
      const client = new AdminClient({ url, token: targets.token });
      const blue = { greenWeight: 0, mirror: 0, reason: `rollback: ${reason}`.slice(0, 200) };
      try {
        if (runs === undefined || runs.length === 0) await client.setRoute(blue);
        else {
          const { route, now } = await client.getRoute();
          if (route.controller !== undefined && !runs.includes(route.controller)) return leftAlone(client.url, route, now);
          await client.setRoute({ ...blue, ...deadRunsEnding(route, runs) });
        }
        return { ok: true, told: true, message: `proxy ${client.url}: back on blue` };
      } catch (error) {
        // Another run's route came between the read and the blue (its first route, its promotion): the proxy keeps it.
        if (error instanceof AdminCallError && error.status === 409 && runs !== undefined)
          return { ok: true, told: false, left: true, message: `proxy ${client.url}: left as it is: ${error.message}; ${FORCE_BLUE}` };
        if (error instanceof AdminCallError && error.tokenRefused)
          return { ok: false, told: false, tokenRefused: true, message: `proxy ${client.url} ${tokenRefusal(error, plan.proxy?.admin?.token_env)}` };
        // Blue is in force but not saved: its answer says what a restart would serve (a promotion saved there, say).
        if (error instanceof AdminCallError && error.inForce)
          return {
            ok: !promotionBegun,
            told: false,
            message: `proxy ${client.url}: serving blue, not saved: ${error.message}${promotionBegun ? '; run bluegreen rollback again once its state folder is freed' : ''}`,
          };
        return { ok: !promotionBegun, told: false, message: untold(`proxy ${client.url}: ${(error as Error).message}`) };
      } finally {
        await client.close();
      }
    }),
  );
}

/**
 * The dead run's blue, sent as its ending would be: its own id (the one whose route the proxy holds, else its last)
 * and the runs it resumed, so the proxy refuses it over another run's completed promotion (route-claims.ts); going
 * on from its own route while that stands, so another run's route set after the read stands too.
 */
function deadRunsEnding(route: Route, runs: readonly string[]): Pick<RouteSet, 'controller' | 'resumes' | 'ended' | 'goingOn'> {
  const controller = route.controller !== undefined && runs.includes(route.controller) ? route.controller : (runs.at(-1) as string);
  const resumes = runs.filter((id) => id !== controller);
  // A route of its own that ended (blue, or a promotion it sent before it died) is not gone on from: the proxy
  // refuses a run going on past its ending; it takes the blue from the same run as that run's last word.
  const goingOn = route.controller === controller && route.ended !== true;
  return { controller, ...(resumes.length > 0 && { resumes }), ended: true, ...(goingOn && { goingOn }) };
}

/** After the fact: the dead rollout is marked rolled back by then, so `bluegreen rollback --force-blue` has nothing left to do. */
const FORCE_BLUE = 'to put it on blue all the same: PUT /admin/route {"greenWeight":0,"mirror":0} on it by hand';

/** A proxy whose route another rollout run set after the dead run's: nothing of the dead run's is there to undo. */
function leftAlone(url: string, route: Route, now: number): ProxyTold {
  const since = `set at ${new Date(route.updatedAt).toISOString()} by ${holderOf(route)}`;
  let what: string;
  if (route.promotedArm === 'green')
    what = `left serving green: another rollout promoted green here since this one died (${describeRoute(route)}, ${since}${route.ended === true ? ', and reported it done' : ''}); ${FORCE_BLUE}`;
  else if (leaseHeld(route, now))
    what = `left as it is: another rollout drives it now (${describeRoute(route)}, ${since}), its lease renewed while it runs; it is that rollout's to end (bluegreen abort in its state folder)`;
  else what = `left as it is: another rollout set its route since this one died (${describeRoute(route)}, ${since})`;
  return { ok: true, told: false, left: true, message: `proxy ${url}: ${what}` };
}

/**
 * Why the rollback cannot go on when a proxy refused the admin token, or undefined: as with an unset token, the
 * operator sets the right one and runs it again (exit 2), rather than have a rollback "succeed" (exit 0) on a lease
 * it could not check. The proxies that took blue are said, so no one thinks nothing moved.
 */
export function tokenRefusedProblem(plan: Plan, proxies: readonly ProxyTold[]): string | undefined {
  const refused = proxies.filter((proxy) => proxy.tokenRefused);
  if (refused.length === 0) return undefined;
  const which = refused.length === proxies.length ? "the rollout's proxies" : `${refused.length} of the rollout's ${proxies.length} proxies`;
  const variable = plan.proxy?.admin?.token_env ?? 'proxy.admin.token_env';
  const told = proxies.filter((proxy) => proxy.told).length;
  const others = told === 0 ? '' : `; the other ${told === 1 ? 'one is' : `${told} are`} back on blue`;
  return (
    `cannot tell ${which} to serve blue: ${refused.map((proxy) => proxy.message).join('; ')}: set ${variable} to the admin token the proxies were started with ` +
    `and run bluegreen rollback again${others}; no hook was run and the rollout is still marked unfinished`
  );
}
