// `bluegreen rollback` (and a new rollout) on a dead live rollout: tell every proxy to serve blue now, rather
// than waiting for its lease. A proxy that does not answer is on blue by its lease already (or will be within
// it), unless the dead rollout had begun promoting: a promotion has no lease, so such a proxy may serve green
// until someone tells it otherwise.
import { UsageError } from '../core/exit.js';
import type { Plan } from '../plan/plan.js';
import { AdminCallError, AdminClient, tokenRefusal } from './admin-client.js';
import { liveTargets } from './controller.js';

export interface ProxyTold {
  /** The proxy is on blue, or will be by its lease; false when it may keep serving green. */
  ok: boolean;
  /** Told to serve blue (it answered). */
  told: boolean;
  /** It answered and refused the admin token: the operator's to fix, as an unset one is (see tokenRefused). */
  tokenRefused?: boolean;
  message: string;
}

/**
 * Tells every proxy of `plan` to serve blue. `promotionBegun`: the dead rollout may have promoted some proxy (no
 * lease), so one not told may serve green for good. Without the admin token nothing is done: a UsageError says to
 * set it, before anything is marked, so the rollback can be run again with it.
 */
export async function proxiesToBlue(plan: Plan, stateDir: string, env: NodeJS.ProcessEnv, reason: string, promotionBegun = false): Promise<ProxyTold[]> {
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
      try {
        await client.setRoute({ greenWeight: 0, mirror: 0, reason: `rollback: ${reason}`.slice(0, 200) });
        return { ok: true, told: true, message: `proxy ${client.url}: back on blue` };
      } catch (error) {
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
