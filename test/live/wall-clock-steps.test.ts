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
import type { Running } from '../proxy/helpers.js';
import { adminRelay } from './admin-relay.js';
import { ADMIN_TOKEN, liveFixture, proxyPlan, refusedPort } from './helpers.js';

const fixture = liveFixture();

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
/** Runs `clock` on while the actuator's work waits on it (never while a call is on the network), up to `target` on the steady clock. */
async function runTo(clock: FakeClock, done: () => boolean, target: number): Promise<void> {
  while (!done() && clock.steadyNow() < target) {
    await until(() => done() || clock.pendingTimers() > 0, 'the next try to wait on the clock');
    if (!done()) await clock.advance(Math.min(250, target - clock.steadyNow()));
  }
}

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

  clock.jumpWall(HOUR);
  await runTo(clock, () => done, deadline - 1);
  expect(done).toBe(false);
  clock.jumpWall(-2 * HOUR);
  await runTo(clock, () => done, deadline);
  // The last retry, at the deadline, goes out and fails: then nothing more waits on the clock.
  await until(() => done || clock.pendingTimers() > 0, 'the last retry');
  expect(done).toBe(true);
  const [result] = await ending;
  expect(result).toMatchObject({ ok: false });
  expect(result?.message).toContain('its lease runs out');
});

// clock23: the promotion's read-back (read-back.ts) had no such test. A proxy that took the promotion's first step and
// lost its answer to the second has its route read back until the first step's lease would have run out: on the wall
// clock, a step forward of an hour would give up at once (the proxy in doubt, "check by hand", while a late answer could
// still have said which way it went), one back would read for an hour.
it("a promotion's read-back of a proxy that lost its answer lasts until the first step's lease has run out on the steady clock, whichever way the wall clock steps", async () => {
  const clock = new FakeClock();
  const [proxy] = (await fixture.startProxies(1, { now: () => clock.now() })) as [Running];
  // The proxy takes the promotion; its answer is lost and nothing reaches it after (its network gone).
  const relay = await adminRelay(proxy.proxy.adminUrl as string, { cutAfter: (route) => (route.promotedArm === 'green' ? 'lose' : undefined) });
  const fleet = new ProxyFleet([relay.url], ADMIN_TOKEN, clock, 10_000, 250);
  onTestFinished(() => fleet.close());
  const actuator = new ProxyActuator(planFromYaml(proxyPlan()), fleet, clock);
  await actuator.applyStage({ stage: 0, stages: 1, greenWeight: 0.5 });
  // The first step (all green under a lease) and the promotion's tries take no time on the clock: the first step's
  // lease runs out 10 s (and a poll) from now.
  const deadline = clock.steadyNow() + 10_000 + 250;
  let done = false;
  const ending = actuator.applyEnding({ event: 'promote', stage: 0, stages: 1, greenWeight: 0.5, reason: 'passed' }).finally(() => (done = true));
  await until(() => actuator.busy()?.includes('to show the promotion or blue') === true, 'the read-back to begin');
  expect(actuator.busy()).toContain(new Date(deadline).toISOString());
  expect(relay.lost).toBe(1);

  clock.jumpWall(HOUR);
  await runTo(clock, () => done, deadline - 1);
  expect(done).toBe(false);
  clock.jumpWall(-2 * HOUR);
  await runTo(clock, () => done, deadline);
  // The last read, at the deadline, goes out and fails: then nothing more waits on the clock.
  await until(() => done || clock.pendingTimers() > 0, 'the last read');
  expect(done).toBe(true);
  const [result] = await ending;
  expect(result).toMatchObject({ ok: false });
  expect(result?.message).toContain("nor answer a read of its route until its first step's lease ran out");
});
