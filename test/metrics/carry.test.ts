// state.json's saved figures read back for rollout --resume: only what a run could have written is carried.
import { describe, expect, it } from 'vitest';
import { bucketOf, HIGHEST_MS, LOWEST_MS } from '../../src/metrics/buckets.js';
import { carriedCounts } from '../../src/metrics/carry.js';
import { emptyArmStats } from '../../src/metrics/types.js';
import { evaluate } from '../../src/analysis/index.js';
import { analysisConfig } from '../helpers/plans.js';

describe('carriedCounts latency buckets', () => {
  it('keeps buckets a latency can fall in', () => {
    const saved = { first: bucketOf(10), counts: [1, 0, 2] };
    expect(carriedCounts({ latencyBuckets: saved }).latencyBuckets).toEqual(saved);
    const edges = { first: bucketOf(LOWEST_MS), counts: new Array<number>(bucketOf(HIGHEST_MS) - bucketOf(LOWEST_MS) + 1).fill(1) };
    expect(carriedCounts({ latencyBuckets: edges }).latencyBuckets).toEqual(edges);
  });

  it('drops buckets no latency reaches (an edited state.json): the counter would fill the gap to them', () => {
    expect(carriedCounts({ latencyBuckets: { first: 1e12, counts: [1] } }).latencyBuckets).toBeUndefined();
    expect(carriedCounts({ latencyBuckets: { first: -1e12, counts: [1] } }).latencyBuckets).toBeUndefined();
    expect(carriedCounts({ latencyBuckets: { first: bucketOf(HIGHEST_MS), counts: [1, 1] } }).latencyBuckets).toBeUndefined();
  });
});

describe('carriedCounts that contradict each other (an edited or corrupt state.json)', () => {
  const ttft = { p50: 100, p95: 200, p99: 300, max: 400, mean: 120, count: 5 };
  it.each([
    [{ requests: 10, successes: 8, failures: 5 }, '8 successes and 5 failures in 10 requests'],
    [{ requests: 10, successes: 4, failures: 6, qualityFailures: 5 }, '5 quality failures in 4 successes'],
    [{ requests: 10, successes: 10, slow: { latency: { '3000': 11 }, ttft: {} } }, '11 requests over 3000 ms in 10'],
    [{ requests: 10, successes: 10, ttft, slow: { latency: {}, ttft: { '2000': 6 } } }, '6 first tokens after 2000 ms in 5 streamed requests'],
    // error_rate judges failures less client aborts, the comparisons failures less aborts past the cap: either
    // count above the failures would be a negative count of failures, which the rate tests refuse (RangeError).
    [{ requests: 10, successes: 8, failures: 2, failuresByClass: { client_abort: 3 } }, '3 failures by class in 2 failures'],
    [{ requests: 10, successes: 8, failures: 2, failuresByClass: { server_error: 1, timeout: 2 } }, '3 failures by class in 2 failures'],
    [
      { requests: 10, successes: 6, failures: 4, failuresByClass: { client_abort: 4 }, abortsPastClientCap: 5 },
      '5 client aborts past the cap in 4 client aborts',
    ],
  ])('carries none of an arm whose counts cannot all be true, and says why: %j', (saved, why) => {
    const counts = carriedCounts(saved);
    expect([counts.requests, counts.successes, counts.failures, counts.qualityFailures, counts.slow, counts.ttft]).toEqual([
      0,
      0,
      0,
      0,
      { latency: {}, ttft: {} },
      null,
    ]);
    expect(counts.unreadable).toEqual([`counts: ${why}: left out, so its tests start again on this run's requests`]);
  });

  it('carries counts a run could have written, to the limits', () => {
    const saved = { requests: 10, successes: 6, failures: 4, qualityFailures: 6, ttft, slow: { latency: { '3000': 10 }, ttft: { '2000': 5 } } };
    expect(carriedCounts(saved)).toMatchObject({ requests: 10, failures: 4, qualityFailures: 6, slow: saved.slow, unreadable: [] });
    const aborts = { requests: 10, successes: 6, failures: 4, failuresByClass: { client_abort: 4 }, abortsPastClientCap: 4 };
    expect(carriedCounts(aborts)).toMatchObject({ failuresByClass: { client_abort: 4 }, abortsPastClientCap: 4, unreadable: [] });
  });

  it("carries first tokens after a limit of failed streams cut after them beside the successes' (ttft_p95 counts both)", () => {
    const saved = { requests: 7, successes: 5, failures: 2, ttft, slow: { latency: {}, ttft: { '2000': 7 } }, failedStreams: { requests: 2, unknown: {} } };
    expect(carriedCounts(saved)).toMatchObject({ slow: saved.slow, failedStreams: saved.failedStreams, unreadable: [] });
    expect(carriedCounts({ ...saved, slow: { latency: {}, ttft: { '2000': 8 } } }).unreadable).toEqual([
      "counts: 8 first tokens after 2000 ms in 7 streamed requests: left out, so its tests start again on this run's requests",
    ]);
  });

  it('keeps a resumed stage judgeable: the counts it would have carried made error_rate throw', () => {
    const saved = { requests: 10, successes: 8, failures: 2, failuresByClass: { client_abort: 3 } };
    const { requests, successes, failures, failuresByClass } = carriedCounts(saved);
    const green = { ...emptyArmStats(), requests, successes, failures, failuresByClass };
    const config = analysisConfig({ thresholds: { error_rate: 0.05 } });
    expect(() => evaluate({ stageIndex: 0, stageCount: 1, green, blue: emptyArmStats(), config })).not.toThrow();
  });
});
