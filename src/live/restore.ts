// `bluegreen rollback` (and a new rollout) on a dead live rollout: tell every proxy to serve blue now, rather
// than waiting for its lease. A proxy that does not answer is on blue by its lease already (or will be within
// it), so it is reported, not treated as a failure.
import type { Plan } from '../plan/plan.js';
import { AdminClient } from './admin-client.js';
import { liveTargets } from './controller.js';

export async function proxiesToBlue(plan: Plan, stateDir: string, env: NodeJS.ProcessEnv, reason: string): Promise<string[]> {
  let targets: { urls: string[]; token: string };
  try {
    targets = liveTargets(plan, stateDir, env);
  } catch (error) {
    return [`proxies not told (${(error as Error).message}); each returns to blue when its lease runs out`];
  }
  return Promise.all(
    targets.urls.map(async (url) => {
      const client = new AdminClient({ url, token: targets.token });
      try {
        await client.setRoute({ greenWeight: 0, mirror: 0, reason: `rollback: ${reason}`.slice(0, 200) });
        return `proxy ${client.url}: back on blue`;
      } catch (error) {
        return `proxy ${client.url}: ${(error as Error).message}; it returns to blue when its lease runs out`;
      } finally {
        await client.close();
      }
    }),
  );
}
