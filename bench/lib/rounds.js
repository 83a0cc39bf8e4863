// Figures over a benchmark's interleaved rounds (bench/proxy.js): the median of the rounds' figures with their range,
// and a percentile of every request of every round pooled together.
import { percentile, round } from './util.js';

/** @param {(number | null | undefined)[]} values @returns {number | null} */
export function median(values) {
  const sorted = /** @type {number[]} */ (values.filter((v) => v !== null && v !== undefined)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median and range of one figure over the rounds: the median is reported, the range lets a reader judge it. */
export const spread = (/** @type {number[]} */ values) => ({
  median: round(median(values), 3),
  min: round(Math.min(...values), 3),
  max: round(Math.max(...values), 3),
});

/**
 * The `p`-th percentile of every sample of every run together (ms, 3 decimals): at 1,000 req/s a 2 s round's p99 is
 * its 20 slowest requests, where eight rounds pooled give it 160.
 * @param {ArrayLike<number>[]} runs each run's samples
 * @param {number} p
 */
export function pooledPercentile(runs, p) {
  const all = new Float64Array(runs.reduce((sum, r) => sum + r.length, 0));
  let at = 0;
  for (const r of runs) {
    all.set(r, at);
    at += r.length;
  }
  return round(percentile(all.sort(), p), 3);
}
