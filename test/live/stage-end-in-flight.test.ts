// A live stage's end waits for the requests the proxies still serve under it (found by judged15): it read each proxy
// once, so a green hanging in the stage's last seconds failed after the judgement, and the stage passed. The engine
// drives a real proxy on the fake clock; the proxy's upstream is scripted: blue answers at once, green's requests
// hang until the test releases them (with a 500) once the stage's time is up.
import type { ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import OpenAI from 'openai';
import { formatStageEndLine } from '../../src/report/line.js';
import { until } from '../helpers/until.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from '../proxy/helpers.js';
import { tempDir } from '../helpers/plans.js';
import { ADMIN_TOKEN, proxyPorts } from './helpers.js';
import { oneStageLiveRollout, runClockUntil } from './engine-on-proxies.js';

const POLL_MS = 250;
const REQUESTS = 24;

/**
 * An upstream answering one arm at once and holding the other's requests (green's by default) until release()
 * answers them (500 by default).
 */
async function hangingGreen(held: 'green-model' | 'blue-model' = 'green-model') {
  const other = held === 'green-model' ? 'blue-model' : 'green-model';
  const hung: ServerResponse[] = [];
  const server = await scriptedServer((_req, res, body) => {
    if (body.includes(held)) return void hung.push(res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(openAiCompletion(other, 'hello'));
  });
  const release = (status = 500): void => {
    for (const res of hung.splice(0)) {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? openAiCompletion(held, 'hello') : '{"error":{"message":"upstream broke"}}');
    }
  };
  return { server, hung, release };
}

/**
 * A proxy in front of `url` (its streams cut after 10 s) and a one-stage rollout (1 s at 50% green; `stages` such
 * stages) driving it on the fake clock.
 */
function rolloutOn(
  url: string,
  requestTimeout: string,
  stages = 1,
  more: Pick<Parameters<typeof oneStageLiveRollout>[1], 'onUnjudged' | 'proxy' | 'compareToBlue'> = {},
) {
  return oneStageLiveRollout(proxyYaml(url, requestTimeout), { pollMs: POLL_MS, errorRate: 0.2, stages, ...more });
}

function proxyYaml(url: string, requestTimeout: string): string {
  const proxy = '{ fallback: false, admin: { token_env: ADMIN_TOKEN }, limits: { max_stream_duration: 10s } }';
  return scriptedPlan(url, { proxy }).replace('request: 5s', `request: ${requestTimeout}`);
}

/** The application's requests, one user each (about half go green); resolves once every one reached the upstream. */
async function sendRequests(baseUrl: string, seen: () => number): Promise<Promise<unknown>[]> {
  const client = new OpenAI({ baseURL: baseUrl, apiKey: 'unused', maxRetries: 0 });
  const calls = Array.from({ length: REQUESTS }, (_, i) =>
    client.chat.completions.create({ model: 'blue-model', user: `user-${i}`, messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined),
  );
  await until(() => seen() === REQUESTS, 'every request reached the upstream');
  return calls;
}

it("judges the green failures answered after a live stage's time is up, and rolls back", async () => {
  const { server, hung, release } = await hangingGreen();
  const { running, clock, engine, done } = await rolloutOn(server.url, '5s');
  const calls = await sendRequests(running.baseUrl, () => server.seen.length);
  const green = hung.length;
  expect(green).toBeGreaterThanOrEqual(5);
  let settled = false;
  void done.finally(() => (settled = true));
  await clock.advance(1000);
  // The stage's time is up: its end waits for green's requests in flight at the proxy, and says so.
  await until(() => settled || engine.snapshot().stageEndWait !== undefined, "the stage's end to wait (or the stage to end)");
  // Before the stage-end wait, the stage passed here (judged before green answered): promoted.
  expect(settled ? (await done).phase : 'waiting').toBe('waiting');
  const snapshot = engine.snapshot();
  expect(snapshot.stageEndWait).toMatchObject({ stage: 0, requests: green, atProxies: true });
  expect(formatStageEndLine(snapshot, clock.now())).toContain(`stage 1 ending: waiting for ${green} requests in flight at the proxies`);
  // Green answers now, after the stage's time: its failures are judged in the stage.
  release();
  await Promise.all(calls);
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
  expect(outcome.breach?.rule).toBe('error_rate');
  expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
});

it("does not wait for the requests begun while the stage's end waits (the route is still the stage's)", async () => {
  const { server, hung, release } = await hangingGreen();
  const { running, clock, journal, engine, done } = await rolloutOn(server.url, '5s');
  const calls = await sendRequests(running.baseUrl, () => server.seen.length);
  await clock.advance(1000);
  const timeUpAt = clock.now();
  await until(() => engine.snapshot().stageEndWait !== undefined, "the stage's end to wait");
  // Green answers well, and the application goes on meanwhile, at the stage's weight: its green requests hang.
  release(200);
  await Promise.all(calls);
  const later = sendRequests(running.baseUrl, () => server.seen.length - REQUESTS);
  await until(() => server.seen.length === 2 * REQUESTS && hung.length > 0, 'the later requests at the upstream, green hanging');
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
  // Judged a poll or so after the time was up, not after the bound (5 s and a poll) the later requests would hold it.
  const passed = journal.find((event) => event.type === 'stage_passed');
  expect((passed?.at ?? Infinity) - timeUpAt).toBeLessThan(5000);
  release();
  await Promise.all(await later);
});

it('ends the stage after the proxy upstream timeouts and a poll when its requests never answer, and never promotes with them', async () => {
  const { server, hung, release } = await hangingGreen();
  // A request timeout on the proxy far longer than the test runs in real time (20 s: the rollout's clock crosses it in
  // 1-3 s of polls): only the rollout's bound (on its fake clock) ends the wait. Each fake second costs polls of the
  // proxy in real time: 60 s took 3-4 s more.
  const { running, clock, journal, engine, done } = await rolloutOn(server.url, '20s', 2);
  const calls = await sendRequests(running.baseUrl, () => server.seen.length);
  const green = hung.length;
  expect(green).toBeGreaterThan(0);
  await clock.advance(1000);
  const timeUpAt = clock.now();
  await until(() => engine.snapshot().stageEndWait !== undefined, "the stage's end to wait");
  // timeout.request (20 s) and timeout.idle (2 s): a stream stalled after its first bytes fails that late.
  expect(engine.snapshot().stageEndWait?.upToMs).toBe(22_000 + POLL_MS);
  // clock24: counted on the steady clock: a wall clock stepped forward an hour read no time left.
  clock.jumpWall(3_600_000);
  expect(engine.snapshot().stageEndWait?.upToMs).toBe(22_000 + POLL_MS);
  clock.jumpWall(-3_600_000);
  await runClockUntil(
    clock,
    until(() => journal.some((event) => event.type === 'stage_started' && event.stage === 1), 'stage 2 started'),
    1000,
  );
  const passed = journal.find((event) => event.type === 'stage_passed');
  expect((passed?.at ?? 0) - timeUpAt).toBeGreaterThanOrEqual(22_000 + POLL_MS);
  expect(journal.map((event) => event.message).join('\n')).toContain(
    `stage 1 is judged without ${green} requests begun in it and still running at the proxies after their upstream timeouts (timeout.request and timeout.idle) and a poll (22s): each is judged with stage 1 when it answers, at the rollout's next judgement`,
  );
  // The last stage's end waits for every stage's requests, up to the longest a proxy lets one live: timeout.request
  // (20 s) and max_stream_duration (10 s), and a poll. They never answer: the rollout rolls back rather than promote.
  await runClockUntil(
    clock,
    until(() => engine.snapshot().stageEndWait !== undefined || engine.snapshot().phase !== 'progressing', "the last stage's end to wait"),
    POLL_MS,
  );
  const wait = engine.snapshot().stageEndWait;
  expect(wait).toMatchObject({ stage: 1, requests: green, atProxies: true, beforePromotion: true });
  // Seen some clock steps after the one that began the wait (`until` polls on real time while the clock moves): what
  // is left of the bound says when it began.
  const bound = 30_000 + POLL_MS;
  expect(wait?.upToMs).toBeGreaterThan(bound - 20_000);
  expect(wait?.upToMs).toBeLessThanOrEqual(bound);
  const lastWaitBegan = clock.now() - (bound - (wait?.upToMs ?? 0));
  const outcome = await runClockUntil(clock, done, 1000);
  expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'still_running', figure: green } });
  const breach = journal.find((event) => event.type === 'breach');
  expect((breach?.at ?? 0) - lastWaitBegan).toBeGreaterThanOrEqual(bound);
  expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  // The proxy's own timeout never came: the requests are still hanging there.
  expect(hung.length).toBe(green);
  release();
  await Promise.all(calls);
});

it('ends the wait at once when an operator aborts during it, and traffic goes back to blue', async () => {
  const { server, hung, release } = await hangingGreen();
  const { running, clock, engine, done } = await rolloutOn(server.url, '60s');
  const calls = await sendRequests(running.baseUrl, () => server.seen.length);
  await clock.advance(1000);
  const timeUpAt = clock.now();
  await until(() => engine.snapshot().stageEndWait !== undefined, "the stage's end to wait");
  engine.abort('alice');
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'aborted', exitCode: 4 });
  expect(clock.now() - timeUpAt).toBeLessThan(60_000);
  expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  expect(hung.length).toBeGreaterThan(0);
  release();
  await Promise.all(calls);
});

// loose18: the last stage's end counted blue's requests too (and mirror copies, which are green's), so a blue stream
// longer than the stage held the promotion up to the proxies' longest request life, then rolled back (still_running)
// over requests whose answers judge nothing green is promoted on.
it("promotes without waiting for blue's requests still running at the last stage's end", async () => {
  const { server, hung, release } = await hangingGreen('blue-model');
  const { running, clock, journal, engine, done } = await rolloutOn(server.url, '60s');
  const calls = await sendRequests(running.baseUrl, () => server.seen.length);
  const blue = hung.length;
  expect(blue).toBeGreaterThanOrEqual(5);
  await until(() => running.proxy.metrics.inFlightByStage().stages[0]?.green === 0, "green's answers recorded");
  expect(running.proxy.metrics.inFlightByStage().stages).toEqual([{ stage: 0, controller: expect.any(String), requests: blue, green: 0, greenStreamed: 0 }]);
  await clock.advance(1000);
  const timeUpAt = clock.now();
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
  // Promoted a poll or so after the time was up, not after the bound (60 s, 10 s and a poll) blue's would hold it.
  const promoted = journal.find((event) => event.type === 'promoted');
  expect((promoted?.at ?? Infinity) - timeUpAt).toBeLessThan(5000);
  expect(engine.snapshot().stageEndWait).toBeUndefined();
  // Blue's requests were never waited for: they still hang at the upstream, and answer the application when they do.
  expect(hung.length).toBe(blue);
  release(200);
  await Promise.all(calls);
});

// loose20: with a rule comparing green with blue, blue's answers judge the promotion too: the last stage's end waits
// for them (generated traffic did since loose19; the live wait counted green's alone).
it("waits for blue's requests too at the last stage's end when a rule compares green with blue", async () => {
  const { server, hung, release } = await hangingGreen('blue-model');
  const { running, clock, journal, engine, done } = await rolloutOn(server.url, '60s', 1, { compareToBlue: '{ max_latency_p95_ratio: 1000 }' });
  const calls = await sendRequests(running.baseUrl, () => server.seen.length);
  const blue = hung.length;
  expect(blue).toBeGreaterThanOrEqual(5);
  await until(() => running.proxy.metrics.inFlightByStage().stages[0]?.green === 0, "green's answers recorded");
  await clock.advance(1000);
  await until(() => engine.snapshot().stageEndWait !== undefined, "the last stage's end to wait for blue's requests");
  expect(engine.snapshot().stageEndWait).toMatchObject({ stage: 0, requests: blue, atProxies: true, beforePromotion: true });
  // Polls go by: still waiting, nothing promoted while blue's answers are outstanding.
  for (let poll = 0; poll < 4; poll++) await clock.advance(POLL_MS);
  expect(journal.some((event) => event.type === 'promoted')).toBe(false);
  expect(engine.snapshot().stageEndWait).toBeDefined();
  release(200);
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
  await Promise.all(calls);
});

// Lead's 40c55f5 (review17's MEDIUM), which no test reached: a stage passed with nothing of green judged (green's
// requests outlived its end's wait) and then judged healthy on its late results still counted as unjudged at the
// rollout's end, so a rollout whose other stages judged nothing rolled back on nothing_judged. Here stage 1's green
// requests hang past its end's bound (the proxy's 20 s request timeout, on the rollout's fake clock; longer than
// the test runs in real time); nothing is sent
// in stage 2, whose end (the last) waits for every stage's green requests: they answer well meanwhile.
it('counts a stage passed with nothing of green judged as judged once its late results judge it: no nothing_judged', async () => {
  const { server, hung, release } = await hangingGreen();
  const { running, clock, journal, engine, done } = await rolloutOn(server.url, '20s', 2, { onUnjudged: 'rollback' });
  const calls = await sendRequests(running.baseUrl, () => server.seen.length);
  const green = hung.length;
  // At least min_requests (5): once answered, they judge the stage.
  expect(green).toBeGreaterThanOrEqual(5);
  await clock.advance(1000);
  await runClockUntil(
    clock,
    until(() => journal.some((event) => event.type === 'stage_started' && event.stage === 1), 'stage 2 started'),
    1000,
  );
  expect(journal.find((event) => event.type === 'stage_passed' && event.stage === 0)?.message).toContain('so nothing was judged');
  await runClockUntil(
    clock,
    until(() => engine.snapshot().stageEndWait?.beforePromotion === true || engine.snapshot().phase !== 'progressing', "the last stage's end to wait"),
    POLL_MS,
  );
  expect(engine.snapshot().stageEndWait).toMatchObject({ stage: 1, requests: green, beforePromotion: true });
  release(200);
  await Promise.all(calls);
  const outcome = await runClockUntil(clock, done, POLL_MS);
  // Before: rolled back (exit 10) on nothing_judged, stage 1 still counted as unjudged.
  expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
  expect(engine.snapshot().stages[0]?.arms.green).toMatchObject({ requests: green, successes: green });
  expect(journal.some((event) => event.type === 'breach')).toBe(false);
});

// inflight17's warning, which no test reached: a proxy restarted while the last stage's end waited for its requests.
// Its new results feed has none of them (its old process's come through the state folder if it drained, none here:
// it was closed, cutting them), so the wait does not hold for them, and says so.
it("says a proxy restarted while the last stage's end waited for its requests, and promotes without waiting for them", async () => {
  const { server, hung, release } = await hangingGreen();
  const ports = await proxyPorts();
  const proxy = { listen: `127.0.0.1:${ports.listen}`, adminListen: `127.0.0.1:${ports.admin}`, stateDir: tempDir() };
  const { running, clock, journal, engine, done } = await rolloutOn(server.url, '60s', 1, { proxy });
  const calls = await sendRequests(running.baseUrl, () => server.seen.length);
  const green = hung.length;
  expect(green).toBeGreaterThan(0);
  await clock.advance(1000);
  const timeUpAt = clock.now();
  await until(() => engine.snapshot().stageEndWait?.beforePromotion === true, "the last stage's end to wait");
  // Stopped and started again on the same ports and state folder, while the rollout's clock stands still.
  await running.close();
  await Promise.all(calls);
  await runProxy(proxyYaml(server.url, '60s'), { env: { ADMIN_TOKEN, UPSTREAM_KEY }, ...proxy });
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
  // Passed well before the bound (60 s, 10 s and a poll) the cut requests would have held it to.
  expect((journal.find((event) => event.type === 'stage_passed')?.at ?? Infinity) - timeUpAt).toBeLessThan(10_000);
  expect(journal.map((event) => event.message)).toContain(
    `proxy ${running.proxy.adminUrl as string} restarted while stage 1's end waited for ${green} requests it served: their answers reach the rollout ` +
      'through its state folder if it was stopped (SIGTERM, Ctrl-C), not if it was killed (-9), and are judged before the promotion only if they arrive ' +
      'before it (none is waited for: a proxy stopped with SIGTERM drains for up to its proxy.limits.drain_timeout)',
  );
  release();
});
