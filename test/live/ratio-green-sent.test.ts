// Live traffic gives the p95 ratio green's send times too (session 35: src/live/live-sent.ts), so green's upper bound
// (the ratio's ok side) is judged sent-before there, as on generated traffic: each proxy reports each stage's green
// attempts (its split's and mirror copies) with its results pages, checked against the green results read from it. A
// real proxy on 127.0.0.1 holding green's requests, the engine driving it on the fake clock; then scripted admin APIs
// for which results count as green's, and for a proxy that reports no green sends (one before session 35).
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/evaluate.js';
import { unanswered } from '../../src/analysis/rate-rules.js';
import { bucketTotal } from '../../src/metrics/buckets.js';
import type { FeedEntry } from '../../src/proxy/results-feed.js';
import { armAnswers, armResult, pageWith, scriptedResults } from '../helpers/results-pages.js';
import { scriptedPlan } from '../proxy/helpers.js';
import { heldArm, heldThenAnswered, oneStageLiveRollout, runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

const POLL_MS = 250;
const REQUESTS = 24;

it("gives the p95 ratio green's send times from a live proxy, covering green's sample while its requests run and once they answered", async () => {
  const held = await heldArm('green');
  const proxy = '{ fallback: false, admin: { token_env: ADMIN_TOKEN }, limits: { max_stream_duration: 10s } }';
  const covered: { requests: number; running: number }[] = [];
  let uncovered = 0;
  const { running, clock, done } = await oneStageLiveRollout(scriptedPlan(held.server.url, { proxy }), {
    pollMs: POLL_MS,
    errorRate: 0.5,
    compareToBlue: '{ max_latency_p95_ratio: 3 }',
    judge: (input) => {
      const sent = input.greenSent;
      const sample = bucketTotal(input.green.latencyBuckets) + unanswered(input.green);
      if (sent === undefined) uncovered++;
      else {
        // Whenever given, they are green's whole sample in the stage: its requests, and its running ones' ages.
        expect(sent.requests).toBe(sample);
        expect(sent.runningAgesMs.length).toBe(unanswered(input.green));
        expect(sent.sentAtLeast(1)).toBeLessThanOrEqual(sent.requests);
        expect(sent.sentAtLeast(3_600_000)).toBe(0);
        // A proxy's ages are rounded up: no lower bound of a latency, so green's lower bound is not given them.
        expect(sent.runningAgesAtMostMs).toBeUndefined();
        covered.push({ requests: sample, running: unanswered(input.green) });
      }
      return evaluate(input);
    },
  });
  const outcome = await heldThenAnswered({ baseUrl: running.baseUrl, held, arm: 'green', requests: REQUESTS, clock, done, covered, pollMs: POLL_MS });
  expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
  // Before the proxy's first read, and at the stage's end (judged on the requests sent before its cut), none is given.
  expect(uncovered).toBeGreaterThan(0);
});

/** Entries of stage 0 after `from`: a green mirror copy's answer, and blue's answer to a green fallback (no one's sample). */
const mirrorAnswer = (from: number): FeedEntry => ({
  seq: from + 1,
  stage: 0,
  sent: from + 1,
  kind: 'mirror',
  result: armResult('green', true),
  quality: { ok: true },
});
const fallbackAnswer = (from: number): FeedEntry => ({
  seq: from + 1,
  stage: 0,
  sent: from + 1,
  kind: 'fallback',
  result: armResult('blue', true),
  quality: { ok: true },
});

describe("a live stage's green sends", () => {
  it("count green's split and mirror results, not blue's answers to fallbacks, and are none while one proxy reports none (before session 35)", async () => {
    // Proxy A: 3 blue answers, 2 of green's split, a mirror copy's, and one blue answer to a fallback (green's failure is one of the 2).
    const feedA = [...armAnswers('blue', 3), ...armAnswers('green', 2, 3), mirrorAnswer(5), fallbackAnswer(6)];
    const a = await scriptedResults((url) =>
      pageWith(url, 'e1', feedA, { sends: 3, sentAtLeast: [3], running: [] }, { sends: 3, sentAtLeast: [3, 3, 1], running: [] }),
    );
    // Proxy B: 2 of each arm; its report of green's sends only once it is upgraded.
    let upgraded = false;
    const feedB = [...armAnswers('blue', 2), ...armAnswers('green', 2, 2)];
    const b = await scriptedResults((url) =>
      pageWith(url, 'e1', feedB, { sends: 2, sentAtLeast: [2], running: [] }, upgraded ? { sends: 2, sentAtLeast: [2], running: [] } : undefined),
    );
    const { clock, source } = stageZeroLiveSource([a.url, b.url]);
    const read = () => runClockUntil(clock, (source.catchUp as NonNullable<typeof source.catchUp>)(0), POLL_MS);
    await read();
    // B says nothing of green's sends: green is judged on the conservative count; blue's are given as before.
    expect(source.sent?.('green', 0)).toBeUndefined();
    expect(source.sent?.('blue', 0)?.requests).toBe(5);
    upgraded = true;
    await read();
    const green = source.sent?.('green', 0);
    expect(green?.requests).toBe(5);
    expect(green?.runningAgesMs).toEqual([]);
    expect(source.sent?.('blue', 0)?.requests).toBe(5);
  });

  it("are none when a proxy's report counts other than the green results read from it, or says one ended unseen", async () => {
    let green = { sends: 3, sentAtLeast: [3], running: [] as number[], exact: true };
    const admin = await scriptedResults((url) => pageWith(url, 'e1', armAnswers('green', 2), { sends: 0, sentAtLeast: [], running: [] }, green));
    const { clock, source } = stageZeroLiveSource(admin.url);
    const read = () => runClockUntil(clock, (source.catchUp as NonNullable<typeof source.catchUp>)(0), POLL_MS);
    await read();
    expect(source.sent?.('green', 0)).toBeUndefined();
    // The third still running at the page: its sends are the sample again, its age at the grid point at or above it.
    green = { sends: 3, sentAtLeast: [3], running: [0, 0, 1], exact: true };
    await read();
    expect(source.sent?.('green', 0)?.runningAgesMs).toEqual([2 ** (2 / 8)]);
    green = { sends: 2, sentAtLeast: [2], running: [], exact: false };
    await read();
    expect(source.sent?.('green', 0)).toBeUndefined();
  });
});
