// state.json's saved figures read back for rollout --resume: only what a run could have written is carried.
import { describe, expect, it } from 'vitest';
import { bucketOf, HIGHEST_MS, LOWEST_MS } from '../../src/metrics/buckets.js';
import { carriedCounts } from '../../src/metrics/carry.js';

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
