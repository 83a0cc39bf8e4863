// Live traffic gives the p95 ratio blue's send times (session 33: src/live/live-blue-sent.ts), so blue's upper bound
// is judged sent-before there too, as on generated traffic (test/engine/ratio-sent-before.test.ts): the proxy reports
// each stage's blue sends with its results pages, aged on its own clock. A real proxy on 127.0.0.1 in front of a
// scripted upstream, and the engine driving it on the fake clock.
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/evaluate.js';
import { blueReference, blueSentReference } from '../../src/analysis/reference.js';
import { unanswered } from '../../src/analysis/rate-rules.js';
import { bucketTotal } from '../../src/metrics/buckets.js';
import { until } from '../helpers/until.js';
import { openAiCompletion, scriptedPlan, scriptedServer } from '../proxy/helpers.js';
import { oneStageLiveRollout, runClockUntil } from './engine-on-proxies.js';

const POLL_MS = 250;
const REQUESTS = 24;

/** An upstream answering green at once and holding blue's requests until release(). */
async function heldBlue() {
  const hung: ServerResponse[] = [];
  const server = await scriptedServer((_req, res, body) => {
    if (body.includes('blue-model')) return void hung.push(res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(openAiCompletion('green-model', 'hello'));
  });
  const release = (): void => {
    for (const res of hung.splice(0)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', 'hello'));
    }
  };
  return { server, hung, release };
}

it("gives the p95 ratio blue's send times from a live proxy, covering blue's sample while its requests run and once they answered", async () => {
  const { server, hung, release } = await heldBlue();
  const proxy = '{ fallback: false, admin: { token_env: ADMIN_TOKEN }, limits: { max_stream_duration: 10s } }';
  const covered: { requests: number; running: number; givenAt: number }[] = [];
  let uncovered = 0;
  const { running, clock, done } = await oneStageLiveRollout(scriptedPlan(server.url, { proxy }), {
    pollMs: POLL_MS,
    errorRate: 0.5,
    compareToBlue: '{ max_latency_p95_ratio: 3 }',
    judge: (input) => {
      const reference = blueReference(input);
      const sent = blueSentReference(input);
      const sample = bucketTotal(reference.latencyBuckets) + unanswered(reference);
      if (sent === undefined) uncovered++;
      else {
        // Whenever given, they are blue's whole sample: its requests, and its running ones' ages.
        expect(sent.requests).toBe(sample);
        expect(sent.runningAgesMs.length).toBe(unanswered(reference));
        // Never more sent at least an age before than there are requests, and fewer as the age grows.
        expect(sent.sentAtLeast(1)).toBeLessThanOrEqual(sent.requests);
        expect(sent.sentAtLeast(3_600_000)).toBe(0);
        covered.push({ requests: sample, running: unanswered(reference), givenAt: clock.now() });
      }
      return evaluate(input);
    },
  });
  const client = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
  const calls = Array.from({ length: REQUESTS }, (_, i) =>
    client.chat.completions.create({ model: 'blue-model', user: `user-${i}`, messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined),
  );
  await until(() => server.seen.length === REQUESTS, 'every request at the upstream');
  const blue = hung.length;
  expect(blue).toBeGreaterThanOrEqual(3);
  // Blue's requests still running: judged with their ages at the proxy's read.
  await runClockUntil(
    clock,
    until(() => covered.some((seen) => seen.running === blue && seen.requests === blue), "a judgement given blue's running requests' send times"),
    POLL_MS,
  );
  release();
  await Promise.all(calls);
  // Answered: judged with their send times (and latencies) too.
  const answeredAfter = covered.length;
  await runClockUntil(
    clock,
    until(
      () => covered.slice(answeredAfter).some((seen) => seen.running === 0 && seen.requests === blue),
      "a judgement given blue's answered requests' send times",
    ),
    POLL_MS,
  );
  const outcome = await runClockUntil(clock, done, POLL_MS);
  expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
  // Before the proxy's first read, and at the stage's end (judged on the requests sent before its cut), none is given.
  expect(uncovered).toBeGreaterThan(0);
});
