// review14: a rollback tries a proxy that does not answer again until its lease runs out (381a0c4), but not a proxy
// that took the promotion: the one with no lease at all, which serves green for good if the rollback misses it. Here
// one proxy takes the promotion, the other refuses it (a route set by hand between the two steps), and the promoted
// one misses the rollback's three quick attempts (restarting, its connections refused) and answers again a moment
// later. The engine drives two real proxies on the fake clock.
import { expect, it } from 'vitest';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { until } from '../helpers/until.js';
import { adminRelay, refusingPromotion } from './admin-relay.js';
import { engineOnProxies, fleetOf, runClockUntil } from './engine-on-proxies.js';
import { liveFixture, proxyPlan } from './helpers.js';

const fixture = liveFixture();

it("a proxy that took the promotion and misses the rollback's first attempts is tried again, not left on green for good", async () => {
  const [promoted, byHand] = (await fixture.startProxies(2)) as [Running, Running];
  // The promoted proxy restarting: the rollback's first three routes to blue find nothing listening.
  let missed = 0;
  const restarting = await adminRelay(promoted.proxy.adminUrl as string, {
    drop: (route) => (route.greenWeight === 0 && route.ended === true && missed++ < 3 ? 'route' : undefined),
  });
  // An operator sets this proxy's route by hand between the two steps: it refuses the promotion (409).
  const refusing = await refusingPromotion(byHand);
  const clock = new FakeClock();
  // No traffic: the rollout judges nothing, and promotes anyway (the promotion's steps are what is tested).
  const plan = planFromYaml(proxyPlan().replace('green_weight: 0 }', 'green_weight: 0.5 }'));
  const journal: RolloutEvent[] = [];
  const done = new RolloutEngine(engineOnProxies(plan, fleetOf([restarting.url, refusing.url], clock, 60_000, 250), clock, journal)).run();
  await until(() => journal.some((event) => event.type === 'stage_started'), 'stage 1 started');
  await clock.advance(1000);
  const outcome = await runClockUntil(clock, done);
  expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
  expect(outcome.reason).toContain('did not take the promotion');
  expect(missed).toBeGreaterThanOrEqual(3);
  // Back a moment later: a promotion has no lease, so only the rollback's retry can take it off green.
  expect(promoted.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  expect(promoted.proxy.route.stored.promotedArm).toBeUndefined();
});
