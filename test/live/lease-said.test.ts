// A rollback whose route to blue a proxy never took says when that proxy's lease ends, in the right tense: by the
// time the rollback gives up (it tries the proxy again until that lease has run out) it has mostly run out already,
// and "its lease runs out at <a time past>" read as a wait still ahead. Judged on the rollout's clock. Real proxy
// on 127.0.0.1 behind a relay that cuts it off after it took the stage's route; fake clock for both.
import { expect, it, onTestFinished } from 'vitest';
import { ProxyFleet } from '../../src/live/fleet.js';
import { ProxyActuator } from '../../src/live/proxy-actuator.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { adminRelay } from './admin-relay.js';
import { ADMIN_TOKEN, liveFixture, proxyPlan } from './helpers.js';

const fixture = liveFixture();

/**
 * A rollback of a one-stage rollout under `leaseMs` leases whose proxy took the stage's route and then fell silent,
 * the clock run on until the rollback gives up; its result and the lease's end as the proxy gave it.
 */
async function rollbackOfSilentProxy(leaseMs: number) {
  const clock = new FakeClock();
  const [proxy] = await fixture.startProxies(1, { now: () => clock.now() });
  const relay = await adminRelay(proxy?.proxy.adminUrl as string, { cutAfter: (route) => (route.greenWeight === 0.5 ? 'answer' : undefined) });
  const fleet = new ProxyFleet([relay.url], ADMIN_TOKEN, clock, leaseMs, 250);
  onTestFinished(() => fleet.close());
  const actuator = new ProxyActuator(planFromYaml(proxyPlan()), fleet, clock);
  await actuator.applyStage({ stage: 0, stages: 1, greenWeight: 0.5 });
  const lease = fleet.proxies[0]?.view.leaseExpiresAt as number;
  expect(lease).toBe(clock.now() + leaseMs);
  let done = false;
  const ending = actuator.applyEnding({ event: 'rollback', stage: 0, stages: 1, greenWeight: 0.5, reason: 'breach' });
  void ending.finally(() => (done = true)).catch(() => undefined);
  while (!done) {
    await until(() => done || clock.pendingTimers() > 0, 'the next try to wait on the clock');
    if (!done) await clock.advance(250);
  }
  const [result] = await ending;
  return { result, lease, now: clock.now() };
}

it('says the lease ran out when it has, by the time the rollback gives up on the proxy', async () => {
  const { result, lease, now } = await rollbackOfSilentProxy(10_000);
  expect(now).toBeGreaterThan(lease);
  expect(result).toMatchObject({ ok: false });
  expect(result?.message).toContain(`its lease ran out at ${new Date(lease).toISOString()}`);
  expect(result?.message).not.toContain('runs out');
});

it('says the lease runs out when it is still ahead (a lease longer than the minute the rollback tries for)', async () => {
  const { result, lease, now } = await rollbackOfSilentProxy(5 * 60_000);
  expect(now).toBeLessThan(lease);
  expect(result?.message).toContain(`its lease runs out at ${new Date(lease).toISOString()} and it returns to blue on its own`);
});
