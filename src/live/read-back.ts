// A promotion's second step whose answer never came from a proxy that took the first: did it take the promotion?
// Its route is read back (GET /admin/route) until the first step's lease would have run out. A proxy that shows
// the promotion is promoted; one that shows anything else (blue, its lease run out; a route set by hand) is not, and
// the rollout must not say "promoted". One that never answers stays in doubt: green if the promotion reached it,
// else blue since its lease ran out.
import { sleep, steadyNow, type Clock } from '../core/clock.js';
import { describeRoute, LEASE_EXPIRED } from '../proxy/route.js';
import type { Plan } from '../plan/plan.js';
import type { RouteAnswer } from './admin-client.js';
import type { FleetProxy } from './fleet.js';
import { promotesThisGreen } from './promoted.js';

export type ReadBack =
  | { kind: 'promoted' }
  /** `route`: what it serves instead ("blue (its lease ran out at ...)", or a route set by hand as the proxy's log says it). */
  | { kind: 'not_promoted'; route: string; byHand: boolean }
  /** No answer, or still the first step's lease, once that lease should have run out. */
  | { kind: 'unknown' };

export interface ReadBackOptions {
  plan: Plan;
  clock: Clock;
  /** The steady clock's reading (steadyNow) by which the first step's lease has run out on the proxy. */
  deadline: number;
  pollMs: number;
}

export async function readBackPromotion(proxy: FleetProxy, options: ReadBackOptions): Promise<ReadBack> {
  const { plan, clock, deadline, pollMs } = options;
  for (;;) {
    // Read once more after the deadline: the lease has run out by then, so the route says which way it went.
    const past = steadyNow(clock) >= deadline;
    const answer = await proxy.readRoute().catch(() => undefined);
    if (answer) {
      if (promotesThisGreen(plan, answer.route)) return { kind: 'promoted' };
      // All green with no promotion is the first step's lease still running: a late promotion may yet land.
      const firstStep = answer.route.promotedArm === undefined && answer.effective.greenWeight === 1;
      if (!firstStep) return { kind: 'not_promoted', ...served(answer, proxy) };
    }
    if (past) return { kind: 'unknown' };
    await sleep(clock, Math.min(pollMs, Math.max(0, deadline - steadyNow(clock))));
  }
}

/** What a proxy that did not take the promotion serves: blue by its lease, or a route someone else set (byHand). */
function served(answer: RouteAnswer, proxy: FleetProxy): { route: string; byHand: boolean } {
  const { route, effective, now } = answer;
  // The blue this run's lease running out left, once the proxy applied it (its timer, a request, the read itself).
  if (route.reason === LEASE_EXPIRED && proxy.ownsRoute(route))
    return { route: `blue (its lease ran out at ${new Date(route.updatedAt).toISOString()})`, byHand: false };
  // Read before the proxy applied it: the first step's route, its lease past.
  const lapsed = route.leaseExpiresAt !== undefined && route.leaseExpiresAt <= now && effective.greenWeight === 0 && effective.mirror === 0;
  if (!lapsed) return { route: describeRoute(route), byHand: true };
  return { route: `blue (its lease ran out at ${new Date(route.leaseExpiresAt as number).toISOString()})`, byHand: false };
}
