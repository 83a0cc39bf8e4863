// `bluegreen rollback` (and a new rollout) on a dead live rollout: tell every proxy to serve blue now, rather
// than waiting for its lease. A proxy that does not answer is on blue by its lease already (or will be within
// it), unless the dead rollout had begun promoting: a promotion has no lease, so such a proxy may serve green
// until someone tells it otherwise.
import { UsageError } from '../core/exit.js';
import type { Plan } from '../plan/plan.js';
import { AdminClient } from './admin-client.js';
import { liveTargets } from './controller.js';

export interface ProxyTold {
  /** The proxy is on blue, or will be by its lease; false when it may keep serving green. */
  ok: boolean;
  /** Told to serve blue (it answered). */
  told: boolean;
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
        return { ok: !promotionBegun, told: false, message: untold(`proxy ${client.url}: ${(error as Error).message}`) };
      } finally {
        await client.close();
      }
    }),
  );
}
