// inflight17: a green request still running past a live stage's end wait (a stream that keeps trickling, so never
// idle) answered after the stage was judged, and until session 17 counted in its figures only: its failure was never
// judged, and a rollout whose last stage it outlived promoted. Now a stage is judged again on results answered after
// it passed, at the rollout's next judgement, and the last stage's end waits for every stage's requests, up to the
// longest a proxy lets one live (timeout.request, then proxy.limits.max_stream_duration). The engine drives a real
// proxy on the fake clock; the proxy's timeouts run on real time.
import type { ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import { until } from '../helpers/until.js';
import { scriptedPlan, scriptedServer, streamedRequest, type Running } from '../proxy/helpers.js';
import { oneStageLiveRollout, runClockUntil } from './engine-on-proxies.js';

const POLL_MS = 250;
const chunk = (model: string): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content: 'hi' } }] })}\n\n`;

/** Blue's streams end at once; green's send a chunk every 100 ms (never idle) until stall(), then go silent. */
async function tricklingGreen() {
  const trickling = new Set<ServerResponse>();
  const timers: NodeJS.Timeout[] = [];
  const server = await scriptedServer((_req, res, body) => {
    const model = body.includes('green-model') ? 'green-model' : 'blue-model';
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk(model));
    if (model === 'blue-model') return void res.end('data: [DONE]\n\n');
    trickling.add(res);
    res.on('close', () => trickling.delete(res));
    const timer = setInterval(() => {
      if (trickling.has(res)) res.write(chunk(model));
    }, 100);
    timers.push(timer);
  });
  const stall = (): void => {
    for (const timer of timers.splice(0)) clearInterval(timer);
  };
  return { server, trickling, stall };
}

/** `count` streamed requests, one user each (about half go green); resolves once every one reached the upstream. */
async function sendStreams(running: Running, seen: () => number, count: number) {
  const requests = Array.from({ length: count }, (_, i) =>
    streamedRequest(running, '/chat/completions', JSON.stringify({ model: 'blue-model', stream: true, user: `user-${i}`, messages: [] })),
  );
  await until(() => seen() === count, 'every stream reached the upstream');
  return requests;
}

it("judges the green streams that outlived a passed stage's wait and failed after it, and rolls back", async () => {
  const { server, trickling, stall } = await tricklingGreen();
  // timeout.request 1 s, timeout.idle 2 s: a stage's end waits 3 s and a poll (on the rollout's fake clock).
  const proxy = '{ fallback: false, admin: { token_env: ADMIN_TOKEN } }';
  const yaml = scriptedPlan(server.url, { proxy }).replace('request: 5s, idle: 2s', 'request: 1s, idle: 2s');
  const { running, clock, journal, done } = await oneStageLiveRollout(yaml, { pollMs: POLL_MS, errorRate: 0.2, stages: 2 });
  const streams = await sendStreams(running, () => server.seen.length, 20);
  await until(() => trickling.size === server.seen.filter((request) => request.body.includes('green-model')).length, "green's streams trickling");
  const green = trickling.size;
  expect(green).toBeGreaterThanOrEqual(5);
  // Stage 1's end waits its bound (green keeps trickling: never idle), then passes with nothing of green judged.
  await clock.advance(1000);
  await runClockUntil(
    clock,
    until(() => journal.some((event) => event.type === 'stage_started' && event.stage === 1), 'stage 2 started'),
    POLL_MS,
  );
  expect(journal.map((event) => event.message).join('\n')).toContain(
    `stage 1 is judged without ${green} requests begun in it and still running at the proxies after their upstream timeouts (timeout.request and timeout.idle) and a poll (3.3s): each is judged with stage 1 when it answers, at the rollout's next judgement`,
  );
  expect(trickling.size).toBe(green);
  // Green's streams stall now, in stage 2: the proxy cuts each on timeout.idle, a green failure begun in stage 1.
  stall();
  await Promise.all(streams.map((stream) => stream.done));
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'error_rate' } });
  // Since session 33 error_rate also judges green since each stage began: stage 2's judgement counts stage 1's late
  // failures in its window from stage 1 before stage 1 is judged again alone (that path: engine/stage-end-in-flight).
  expect(outcome.breach?.message).toMatch(new RegExp(`^green error_rate 100\\.0% .* over ${green} requests since stage 1 began, in stage 2`));
  expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
});

it("waits at the last stage's end, before the promotion, for a green stream until max_stream_duration cuts it, and judges it", async () => {
  const { server, trickling } = await tricklingGreen();
  // timeout.request 1 s, idle 2 s, max_stream_duration 4 s: a stage's end waited 3 s and a poll; the last one now
  // waits up to 1 s + 4 s and a poll. The proxy cuts a stream still going at 4 s (real time): a green failure.
  const proxy = '{ fallback: false, admin: { token_env: ADMIN_TOKEN }, limits: { max_stream_duration: 4s } }';
  const yaml = scriptedPlan(server.url, { proxy }).replace('request: 5s, idle: 2s', 'request: 1s, idle: 2s');
  const { running, clock, engine, done } = await oneStageLiveRollout(yaml, { pollMs: POLL_MS, errorRate: 0.2 });
  const streams = await sendStreams(running, () => server.seen.length, 20);
  await until(() => trickling.size === server.seen.filter((request) => request.body.includes('green-model')).length, "green's streams trickling");
  const green = trickling.size;
  expect(green).toBeGreaterThanOrEqual(5);
  await clock.advance(1000);
  await until(() => engine.snapshot().stageEndWait !== undefined, "the last stage's end to wait");
  expect(engine.snapshot().stageEndWait).toMatchObject({ stage: 0, requests: green, upToMs: 5000 + POLL_MS, beforePromotion: true });
  // Past the bound a stage's end had until session 17 (3 s and a poll), while green still trickles: still waiting.
  for (let waited = 0; waited < 3000 + 2 * POLL_MS; waited += POLL_MS) {
    await until(() => engine.snapshot().phase !== 'progressing' || clock.pendingTimers() > 0, 'the rollout to wait on its clock');
    await clock.advance(POLL_MS);
  }
  expect(engine.snapshot()).toMatchObject({ phase: 'progressing', stageEndWait: { requests: green } });
  // The proxy cuts the streams at max_stream_duration: green failures, judged before any promotion.
  await Promise.all(streams.map((stream) => stream.done));
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'error_rate' } });
  expect(running.proxy.metrics.snapshot().arms.green.failuresByClass).toEqual({ timeout: green });
});
