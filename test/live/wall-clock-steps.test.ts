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
import { scriptedResults } from '../helpers/results-pages.js';
import { until } from '../helpers/until.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY, type Running } from '../proxy/helpers.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { adminRelay } from './admin-relay.js';
import { stageZeroLiveSource } from './engine-on-proxies.js';
import { ADMIN_TOKEN, liveFixture, proxyPlan } from './helpers.js';

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

/** The actuator of a one-stage rollout over the proxy at `adminUrl` (leases of 10 s, a poll every 250 ms), its stage's route sent. */
async function afterStage(adminUrl: string, token: string, clock: FakeClock): Promise<ProxyActuator> {
  const fleet = new ProxyFleet([adminUrl], token, clock, 10_000, 250);
  onTestFinished(() => fleet.close());
  const actuator = new ProxyActuator(planFromYaml(proxyPlan()), fleet, clock);
  await actuator.applyStage({ stage: 0, stages: 1, greenWeight: 0.5 });
  return actuator;
}

/**
 * Steps the wall clock an hour forward and runs `clock` on (only while the ending waits on it, never while a call is on
 * the network) to 1 ms before `deadline` on the steady clock: the ending must still be under way. Then two hours back,
 * and on to the deadline: its last try goes out then and fails, and the ending is over. Resolves to its results.
 */
async function overAtSteadyDeadline<T>(clock: FakeClock, ending: Promise<T>, deadline: number): Promise<T> {
  let done = false;
  void ending.finally(() => (done = true)).catch(() => undefined);
  const runTo = async (target: number) => {
    while (!done && clock.steadyNow() < target) {
      await until(() => done || clock.pendingTimers() > 0, 'the next try to wait on the clock');
      if (!done) await clock.advance(Math.min(250, target - clock.steadyNow()));
    }
  };
  clock.jumpWall(HOUR);
  await runTo(deadline - 1);
  expect(done).toBe(false);
  clock.jumpWall(-2 * HOUR);
  await runTo(deadline);
  // The last try, at the deadline, goes out and fails: then nothing more waits on the clock.
  await until(() => done || clock.pendingTimers() > 0, 'the last try');
  expect(done).toBe(true);
  return ending;
}

// live22: the actuator's deadlines moved to the steady clock with the fleet's (session 21) but had no test of their
// own. A rollback tries a proxy that does not answer again until the lease of the last green route it sent has run
// out: a wall clock stepped forward an hour gave up at once (the proxy, back up within its lease, served its saved
// green on), one stepped back tried for an hour. (The route must have reached the proxy: one refused at connect never
// renewed its lease, and is not waited on, test/live/rollback-lease-per-proxy.test.ts.)
it("a rollback's retries of a silent proxy last until its lease has run out on the steady clock, whichever way the wall clock steps", async () => {
  const clock = new FakeClock();
  const [running] = (await fixture.startProxies(1)) as [Running];
  // The last green route, taken; then the proxy goes down: its lease runs out 10 s (and a poll) from now.
  const actuator = await afterStage(running.proxy.adminUrl as string, ADMIN_TOKEN, clock);
  await running.close();
  const deadline = clock.steadyNow() + 10_000 + 250;
  const ending = actuator.applyEnding({ event: 'rollback', stage: 0, stages: 1, greenWeight: 0.5, reason: 'breach' });
  await until(() => actuator.busy()?.includes('tried again until its lease runs out') === true, 'the retries to begin');
  expect(actuator.busy()).toContain(new Date(deadline).toISOString());

  const [result] = await overAtSteadyDeadline(clock, ending, deadline);
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
  const actuator = await afterStage(relay.url, ADMIN_TOKEN, clock);
  // The first step (all green under a lease) and the promotion's tries take no time on the clock: the first step's
  // lease runs out 10 s (and a poll) from now.
  const deadline = clock.steadyNow() + 10_000 + 250;
  const ending = actuator.applyEnding({ event: 'promote', stage: 0, stages: 1, greenWeight: 0.5, reason: 'passed' });
  await until(() => actuator.busy()?.includes('to show the promotion or blue') === true, 'the read-back to begin');
  expect(actuator.busy()).toContain(new Date(deadline).toISOString());
  expect(relay.lost).toBe(1);

  const [result] = await overAtSteadyDeadline(clock, ending, deadline);
  expect(result).toMatchObject({ ok: false });
  expect(result?.message).toContain("nor answer a read of its route until its first step's lease ran out");
});

// clock24: a proxy timed its latencies on the wall clock (its `now`, Date.now): an NTP step mid-request gave the live
// rollout an hour-long latency (a latency rollback of a healthy green) or a negative one.
it('a proxy times latency and time to first token on the steady clock, whichever way the wall clock steps mid-request', async () => {
  const clock = new FakeClock();
  const steps = [HOUR, -2 * HOUR];
  const stream = `data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;
  // Every step of the clock is taken before the answer is written: nothing the proxy reads races it.
  const upstream = await scriptedServer((_req, res, body) => {
    clock.jumpWall(steps.shift() ?? 0);
    const streamed = body.includes('"stream":true');
    void clock.advance(streamed ? 120 : 250).then(() => {
      res.writeHead(200, { 'content-type': streamed ? 'text/event-stream' : 'application/json' });
      res.end(streamed ? stream : openAiCompletion('blue-model', 'ok'));
    });
  });
  const running = await runProxy(scriptedPlan(upstream.url), {
    env: { UPSTREAM_KEY },
    now: () => clock.now(),
    steadyNow: () => clock.steadyNow(),
  });
  const results: UpstreamResult[] = [];
  running.proxy.metrics.onResult((result) => results.push(result));
  for (const stream of [false, true]) {
    const answer = await fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', stream, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await answer.text();
  }
  await until(() => results.length === 2, 'both results');
  expect(results[0]).toMatchObject({ ok: true, latencyMs: 250 });
  expect(results[1]).toMatchObject({ ok: true, latencyMs: 120, ttftMs: 120 });
});

// clock24: a live stage's end waited for the proxies' requests in flight until a deadline on the wall clock: a step
// forward ended the wait at once (the last stage's end then rolled back on still_running), one back made it an hour
// longer.
it("a live stage's end waits for the proxies' requests up to its bound on the steady clock, whichever way the wall clock steps", async () => {
  // A proxy whose one green request in stage 0 never answers; its stall timeout is 10 s.
  const admin = await scriptedResults(() => ({
    epoch: 'e1',
    version: 2,
    missed: 0,
    head: 0,
    next: 0,
    results: [],
    inFlight: { started: 1, stages: [{ stage: 0, requests: 1 }], stallTimeoutMs: 10_000 },
  }));
  const { clock, source } = stageZeroLiveSource(admin.url);
  const ended = (source.catchUp as NonNullable<typeof source.catchUp>)(0);
  await until(() => admin.seen.length === 1 && clock.pendingTimers() > 0, "the stage's end waiting on its clock");
  // The bound: the stall timeout and a poll, from the wait's start (no time has passed on the clock).
  expect(await overAtSteadyDeadline(clock, ended, clock.steadyNow() + 10_000 + 250)).toBe(1);
});
