// review10: the promotion's second step taken by one proxy and refused by another (409: a route set by hand between
// the two steps). The rollout rolls back; the proxy that holds the promotion (no lease) must then be told blue, and
// if it cannot be, the journal must not say its lease returns it to blue: it serves green for good.
// Found by review10: the journal said "its lease runs out and it returns to blue on its own" while that proxy served
// green for good.
import { expect, it } from 'vitest';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { adminRelay, refusingPromotion } from './admin-relay.js';
import { engineOnProxies, fleetOf, runClockUntil } from './engine-on-proxies.js';
import { liveFixture, proxyPlan } from './helpers.js';
import { until } from '../helpers/until.js';

const fixture = liveFixture();

/** A one-stage live rollout (50% green for 1 s) over the proxies behind `adminUrls`: its outcome and journal. */
async function rollout(adminUrls: string[]) {
  const clock = new FakeClock();
  const plan = planFromYaml(proxyPlan().replace('green_weight: 0 }', 'green_weight: 0.5 }'));
  const journal: RolloutEvent[] = [];
  const done = new RolloutEngine(engineOnProxies(plan, fleetOf(adminUrls, clock, 60_000, 250), clock, journal)).run();
  await until(() => journal.some((event) => event.type === 'stage_started'), 'stage 1 started');
  await clock.advance(1000);
  // A rollback tries a proxy that does not answer again (a minute for one that may hold the promotion).
  return { outcome: await runClockUntil(clock, done), journal };
}

it('a proxy that took the promotion and misses the rollback that follows is not said to return to blue by its lease', async () => {
  const [promoted, byHand] = (await fixture.startProxies(2)) as [Running, Running];
  const { url: promotedUrl } = await adminRelay(promoted.proxy.adminUrl as string, {
    cutAfter: (route) => (route.promotedArm === 'green' ? 'answer' : undefined),
  });
  // An operator sets this proxy's route by hand between the two steps: it refuses the promotion (409).
  const { url: byHandUrl } = await refusingPromotion(byHand);
  const { outcome, journal } = await rollout([promotedUrl, byHandUrl]);
  expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
  // Behind its relay the first proxy took the promotion, then went silent: it holds green with no lease.
  expect(promoted.proxy.route.stored).toMatchObject({ promotedArm: 'green' });
  expect(promoted.proxy.route.stored.leaseExpiresAt).toBeUndefined();
  const told = journal.find((event) => event.type === 'hook_failed' && event.message.startsWith(`proxy ${promotedUrl}`));
  expect(told?.message).toBeDefined();
  // Its lease does not return it to blue: it has none. The journal must say it may hold the promotion.
  expect(told?.message).not.toMatch(/it returns to blue on its own$/);
  expect(told?.message).toMatch(/promotion/);
});

// Found by review10: only 409 counted as a refusal, so a proxy answering the promotion itself with another error
// (401: the admin token rotated between the steps; 400) ended the rollout promoted, exit 0, while it never took it.
it('a promotion a proxy answers with an error (not 409) is not reported as promoted (exit 0)', async () => {
  const [refusing, other] = (await fixture.startProxies(2)) as [Running, Running];
  const { url: refusingUrl } = await adminRelay(refusing.proxy.adminUrl as string, {
    refuse: (route) => (route.promotedArm === 'green' ? 401 : undefined),
  });
  const { outcome } = await rollout([refusingUrl, other.proxy.adminUrl as string]);
  // The proxy never saw it: at most it holds the first step's lease, then blue. Not "promoted".
  expect(refusing.proxy.route.stored.promotedArm).toBeUndefined();
  expect(outcome.exitCode).not.toBe(0);
});
