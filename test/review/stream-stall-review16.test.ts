// review16: a live stage's end waits for the proxies' requests in flight (stageend16), bounded by what the proxies
// say their upstream timeouts are. A streamed answer is bounded by timeout.request only until its first bytes; a
// green stream that stalls right after them fails on timeout.idle, later. Bounded by timeout.request and a poll, such
// a green, stalling in a stage's last seconds, passed the stage (a warning said some were left out) when idle >
// request. The engine drives a real proxy on the fake clock; the proxy's timeouts run on real time.
import type { ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import { until } from '../helpers/until.js';
import { inBatches, scriptedPlan, scriptedServer, streamedRequest } from '../proxy/helpers.js';
import { oneStageLiveRollout, runClockUntil } from '../live/engine-on-proxies.js';

const POLL_MS = 250;
const chunk = (model: string): string =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta: { content: 'hi' } }] })}\n\n`;

it("judges a green stream that stalls after its first bytes in a stage's last seconds (timeout.idle > timeout.request)", async () => {
  let stall = false;
  const stalled: ServerResponse[] = [];
  let cut = 0;
  const server = await scriptedServer((_req, res, body) => {
    const model = body.includes('green-model') ? 'green-model' : 'blue-model';
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk(model));
    if (model === 'green-model' && stall) {
      res.on('close', () => cut++);
      return void stalled.push(res);
    }
    res.end('data: [DONE]\n\n');
  });
  // request 2s, idle 4s (real time, on the proxy): green's stalled streams fail 4 s after their first bytes, while
  // the rollout's clock is fake: its 2 s and polls pass in well under a second of real time (0.3-0.7 s at load 7).
  const proxyBlock = '{ fallback: false, admin: { token_env: ADMIN_TOKEN } }';
  const yaml = scriptedPlan(server.url, { proxy: proxyBlock }).replace('request: 5s, idle: 2s', 'request: 2s, idle: 4s');
  const { running, clock, engine, done } = await oneStageLiveRollout(yaml, { pollMs: POLL_MS, errorRate: 0.02 });
  const send = (i: number) =>
    streamedRequest(running, '/chat/completions', JSON.stringify({ model: 'blue-model', stream: true, user: `user-${i}`, messages: [] }));
  // Green answers well for a while, then stalls after the first bytes of each stream.
  await inBatches(30, 10, (i) => send(i).done);
  stall = true;
  const late = Array.from({ length: 30 }, (_, i) => send(100 + i));
  await until(() => stalled.length >= 5 && server.seen.length === 60, "green's streams stalled");
  await clock.advance(1000);
  await until(() => engine.snapshot().stageEndWait !== undefined, "the stage's end to wait");
  // Past timeout.request and a poll on the rollout's clock, well before the proxy's idle timeout cuts the streams.
  for (let waited = 0; waited < 2000 + 2 * POLL_MS; waited += POLL_MS) {
    await until(() => engine.snapshot().phase !== 'progressing' || clock.pendingTimers() > 0, 'the rollout to wait on its clock');
    await clock.advance(POLL_MS);
  }
  // What the test stands on: the streams were still stalled past the old bound (cut before it, they would fail within
  // the stage and roll it back without the fix).
  expect(cut).toBe(0);
  // The proxy cuts the stalled streams (stream idle): green's failures, begun in the stage.
  await Promise.all(late.map((request) => request.done));
  await until(() => cut === stalled.length, 'the stalled streams cut upstream too');
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
});
