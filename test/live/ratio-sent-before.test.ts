// Live traffic gives the p95 ratio blue's send times (session 33: src/live/live-sent.ts), so blue's upper bound
// is judged sent-before there too, as on generated traffic (test/engine/ratio-sent-before.test.ts): the proxy reports
// each stage's blue sends with its results pages, aged on its own clock. A real proxy on 127.0.0.1 in front of a
// scripted upstream, and the engine driving it on the fake clock.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/evaluate.js';
import { blueReference, blueSentReference } from '../../src/analysis/reference.js';
import { unanswered } from '../../src/analysis/rate-rules.js';
import { bucketTotal } from '../../src/metrics/buckets.js';
import { blueAnswers, pageWith, scriptedResults } from '../helpers/results-pages.js';
import { scriptedPlan } from '../proxy/helpers.js';
import { heldBlue, heldThenAnswered, oneStageLiveRollout, runClockUntil, stageZeroLiveSource } from './engine-on-proxies.js';

const POLL_MS = 250;
const REQUESTS = 24;

it("gives the p95 ratio blue's send times from a live proxy, covering blue's sample while its requests run and once they answered", async () => {
  const held = await heldBlue();
  const proxy = '{ fallback: false, admin: { token_env: ADMIN_TOKEN }, limits: { max_stream_duration: 10s } }';
  const covered: { requests: number; running: number; givenAt: number }[] = [];
  let uncovered = 0;
  const { running, clock, done } = await oneStageLiveRollout(scriptedPlan(held.server.url, { proxy }), {
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
  const outcome = await heldThenAnswered({ baseUrl: running.baseUrl, held, arm: 'blue', requests: REQUESTS, clock, done, covered, pollMs: POLL_MS });
  expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
  // Before the proxy's first read, and at the stage's end (judged on the requests sent before its cut), none is given.
  expect(uncovered).toBeGreaterThan(0);
});

describe("a live stage's blue sends", () => {
  it("are given when the proxy's report counts exactly the blue results read from its process, and not after it restarted", async () => {
    let page = (url: string | undefined) => pageWith(url, 'e1', blueAnswers(3), { sends: 3, sentAtLeast: [3, 3, 2], running: [] });
    const admin = await scriptedResults((url) => page(url));
    const { clock, source } = stageZeroLiveSource(admin.url);
    const read = () => runClockUntil(clock, (source.catchUp as NonNullable<typeof source.catchUp>)(0), POLL_MS);
    await read();
    const sent = source.sent?.('blue', 0);
    expect(sent?.requests).toBe(3);
    expect(sent?.runningAgesMs).toEqual([]);
    // Asked at an age between the grid's points: answered at the next point up (fewer counted as old, never more).
    expect([sent?.sentAtLeast(0.5), sent?.sentAtLeast(1.05), sent?.sentAtLeast(1.15), sent?.sentAtLeast(60_000)]).toEqual([3, 3, 2, 0]);
    // Another stage's, or a report of more sends than the results read (one lost): none.
    expect(source.sent?.('blue', 1)).toBeUndefined();
    page = (url) => pageWith(url, 'e1', blueAnswers(3), { sends: 4, sentAtLeast: [4], running: [] });
    await read();
    expect(source.sent?.('blue', 0)).toBeUndefined();
    // Back to exact: a running attempt reported at its age (the grid point at or above it).
    page = (url) => pageWith(url, 'e1', blueAnswers(3), { sends: 4, sentAtLeast: [4], running: [0, 0, 1] });
    await read();
    expect(source.sent?.('blue', 0)?.runningAgesMs).toEqual([2 ** (2 / 8)]);
    // The proxy restarted (feed e2): its old process's figures of the stage are lost, so the stage's count is conservative.
    page = (url) => pageWith(url, 'e2', blueAnswers(1), { sends: 1, sentAtLeast: [1], running: [] });
    await read();
    expect(source.sent?.('blue', 0)).toBeUndefined();
  });

  it('are not given when one of them ended with no result in the feed (exact: false)', async () => {
    const admin = await scriptedResults((url) => pageWith(url, 'e1', blueAnswers(2), { sends: 2, exact: false, sentAtLeast: [2], running: [] }));
    const { clock, source } = stageZeroLiveSource(admin.url);
    await runClockUntil(clock, (source.catchUp as NonNullable<typeof source.catchUp>)(0), POLL_MS);
    expect(source.sent?.('blue', 0)).toBeUndefined();
  });
});
