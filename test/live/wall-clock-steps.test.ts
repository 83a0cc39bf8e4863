// A live rollout's intervals are timed on the steady clock: the wall clock an operator, NTP or a resumed VM steps must
// not cut or stretch them. Before session 21, a proxy's silence was measured on the wall clock: a step forward of an
// hour during a one-poll blip read as an hour of silence, past any lease, and the rollout rolled back every proxy on
// `proxy_unreachable`; a step back hid a real silence for an hour.
import { expect, it, onTestFinished } from 'vitest';
import { AdminClient } from '../../src/live/admin-client.js';
import { FleetProxy, ProxyFleet } from '../../src/live/fleet.js';
import { ProxyActuator } from '../../src/live/proxy-actuator.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { proxyPlan, refusedPort } from './helpers.js';

const HOUR = 3_600_000;

it("a proxy's silence is measured on the steady clock, whichever way the wall clock steps", async () => {
  const clock = new FakeClock();
  const proxy = new FleetProxy(new AdminClient({ url: 'http://127.0.0.1:1', token: 't' }), clock, 'run-1');
  proxy.failed(new Error('ECONNREFUSED'));
  await clock.advance(1_000);
  clock.jumpWall(HOUR);
  expect(proxy.silentFor()).toBe(1_000);
  await clock.advance(2_000);
  clock.jumpWall(-2 * HOUR);
  expect(proxy.silentFor()).toBe(3_000);
  // The view keeps the wall time it began, for people (live.json, the dashboard).
  expect(proxy.view.unreachableSince).toBe(Date.UTC(2026, 0, 1));
  proxy.answered();
  expect(proxy.silentFor()).toBe(0);
});

// live22: the actuator's deadlines moved to the steady clock with the fleet's (session 21) but had no test of their
// own. A rollback tries a proxy that does not answer again until the lease of the last green route it sent has run
// out: a wall clock stepped forward an hour gave up at once (the proxy, back up within its lease, served its saved
// green on), one stepped back tried for an hour.
it("a rollback's retries of a silent proxy last until its lease has run out on the steady clock, whichever way the wall clock steps", async () => {
  const clock = new FakeClock();
  const fleet = new ProxyFleet([`http://127.0.0.1:${await refusedPort()}`], 't', clock, 10_000, 250);
  onTestFinished(() => fleet.close());
  const actuator = new ProxyActuator(planFromYaml(proxyPlan()), fleet, clock);
  // The last green route sent (not taken: the proxy is down): its lease runs out 10 s (and a poll) from now.
  await actuator.applyStage({ stage: 0, stages: 1, greenWeight: 0.5 });
  const deadline = clock.steadyNow() + 10_000 + 250;
  let done = false;
  const ending = actuator.applyEnding({ event: 'rollback', stage: 0, stages: 1, greenWeight: 0.5, reason: 'breach' }).finally(() => (done = true));
  await until(() => actuator.busy()?.includes('tried again until its lease runs out') === true, 'the retries to begin');
  expect(actuator.busy()).toContain(new Date(deadline).toISOString());

  /** Runs the clock on while the retries wait on it (never while one is on the network), up to `until` on the steady clock. */
  const runTo = async (target: number) => {
    while (!done && clock.steadyNow() < target) {
      await until(() => done || clock.pendingTimers() > 0, 'the next retry to wait on the clock');
      if (!done) await clock.advance(Math.min(250, target - clock.steadyNow()));
    }
  };
  clock.jumpWall(HOUR);
  await runTo(deadline - 1);
  expect(done).toBe(false);
  clock.jumpWall(-2 * HOUR);
  await runTo(deadline);
  // The last retry, at the deadline, goes out and fails: then nothing more waits on the clock.
  await until(() => done || clock.pendingTimers() > 0, 'the last retry');
  expect(done).toBe(true);
  const [result] = await ending;
  expect(result).toMatchObject({ ok: false });
  expect(result?.message).toContain('its lease runs out');
});
