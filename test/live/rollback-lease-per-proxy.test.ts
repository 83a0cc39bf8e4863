// speed32 (LOW, fixed by the lead): a rollback retries a proxy that does not answer until the lease of the last green
// route that may have reached it runs out (it may be restarting on that saved route). That lease was counted from the
// last green route sent to any proxy, renewals a dead proxy refused at connect included: they never reached it, so
// the rollback went on retrying a lease longer than the proxy could serve green. Now each proxy's lease is counted
// from the last green route whose call was not refused at connect.
import { expect, it } from 'vitest';
import { ProxyActuator } from '../../src/live/proxy-actuator.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import type { Running } from '../proxy/helpers.js';
import { fleetOf, runClockUntil } from './engine-on-proxies.js';
import { liveFixture, proxyPlan } from './helpers.js';

const fixture = liveFixture();
const LEASE_MS = 60_000;
const POLL_MS = 250;

it('a rollback stops retrying a dead proxy a lease after the last green route it could have received', async () => {
  const [running] = (await fixture.startProxies(1)) as [Running];
  const clock = new FakeClock(Date.now());
  const fleet = fleetOf([running.proxy.adminUrl as string], clock, LEASE_MS, POLL_MS);
  const actuator = new ProxyActuator(planFromYaml(proxyPlan()), fleet, clock);
  const reached = clock.steadyNow();
  expect(await actuator.applyStage({ stage: 0, stages: 2, greenWeight: 0.5 })).toMatchObject([{ ok: true }]);
  // The proxy dies: its admin port refuses connections.
  await running.close();
  // Renewals go out every lease/3 (20 s): the one at 20 s and the one at 40 s are refused at connect.
  for (let renewals = 0; renewals < 2; renewals++) {
    await clock.advance(LEASE_MS / 3);
    await until(() => !clock.busy() && fleet.proxies[0]?.view.unreachableSince !== undefined, 'the renewal to be refused');
  }
  const [ending] = await runClockUntil(clock, actuator.applyEnding({ event: 'rollback', stage: 0, stages: 2, greenWeight: 0.5, reason: 'breach' }));
  expect(ending).toMatchObject({ ok: false });
  // Retried until the stage route's lease (a poll's margin, and one back-off pause past it at most), not a lease
  // from the renewal at 40 s (which would be 100 s on).
  const retriedUntil = clock.steadyNow() - reached;
  expect(retriedUntil).toBeGreaterThanOrEqual(LEASE_MS);
  expect(retriedUntil).toBeLessThanOrEqual(LEASE_MS + POLL_MS + 2_000);
});
