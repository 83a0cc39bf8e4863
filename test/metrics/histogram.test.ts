import { Int32Histogram } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { HIGHEST_MICROS, LatencyHistogram, toMicros } from '../../src/metrics/index.js';

describe('LatencyHistogram', () => {
  it('is null before the first value', () => {
    expect(new LatencyHistogram().percentiles()).toBeNull();
  });

  it('gives percentiles of 1..1000 ms within 3 significant digits, and exact mean and max', () => {
    const histogram = new LatencyHistogram();
    // Shuffled order must not matter.
    for (let i = 0; i < 1000; i++) histogram.record(((i * 7919) % 1000) + 1);
    const p = histogram.percentiles();
    expect(p).not.toBeNull();
    expect(p?.count).toBe(1000);
    expect(p?.p50).toBeGreaterThanOrEqual(500);
    expect(p?.p50).toBeLessThanOrEqual(500 * 1.001);
    expect(p?.p95).toBeGreaterThanOrEqual(950);
    expect(p?.p95).toBeLessThanOrEqual(950 * 1.001);
    expect(p?.p99).toBeGreaterThanOrEqual(990);
    expect(p?.p99).toBeLessThanOrEqual(990 * 1.001);
    expect(p?.max).toBe(1000);
    expect(p?.mean).toBe(500.5);
  });

  it('keeps sub-millisecond precision and never reports a percentile above the max', () => {
    const histogram = new LatencyHistogram();
    histogram.record(0.25);
    histogram.record(1234.567);
    const p = histogram.percentiles();
    expect(p?.max).toBe(1234.567);
    expect(p?.p99).toBeLessThanOrEqual(1234.567);
    expect(p?.p99).toBeGreaterThan(1233);
    expect(p?.p50).toBeCloseTo(0.25, 3);
  });

  it('clamps values out of range instead of throwing', () => {
    const histogram = new LatencyHistogram();
    histogram.record(-5);
    histogram.record(Number.NaN);
    histogram.record(10 * 3_600_000);
    const p = histogram.percentiles();
    expect(p?.count).toBe(3);
    expect(p?.max).toBe(HIGHEST_MICROS / 1000);
    expect(toMicros(-1)).toBe(0);
    expect(toMicros(1.0004)).toBe(1000);
  });

  it('returns copies, and recomputes after new values', () => {
    const histogram = new LatencyHistogram();
    histogram.record(10);
    const first = histogram.percentiles();
    if (first) first.p95 = 999_999;
    expect(histogram.percentiles()?.p95).toBeCloseTo(10, 1);
    histogram.record(20);
    expect(histogram.percentiles()?.max).toBe(20);
    expect(histogram.percentiles()?.count).toBe(2);
  });

  it('agrees with HdrHistogram getValueAtPercentile on a skewed distribution', () => {
    const ours = new LatencyHistogram();
    const reference = new Int32Histogram(1, HIGHEST_MICROS, 3);
    let seed = 12345;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // Mostly fast, a long tail: the shape LLM latencies have.
      const ms = i % 50 === 0 ? 20_000 + (seed % 40_000) : 200 + (seed % 3000) / 7;
      ours.record(ms);
      reference.recordValue(toMicros(ms));
    }
    const p = ours.percentiles();
    const max = reference.maxValue / 1000;
    for (const [key, percentile] of [
      ['p50', 50],
      ['p95', 95],
      ['p99', 99],
    ] as const) {
      expect(p?.[key]).toBe(Math.min(reference.getValueAtPercentile(percentile) / 1000, max, p?.max ?? 0));
    }
  });

  it('counts still-running requests at their ages, as lower bounds, without changing the completed figures', () => {
    const histogram = new LatencyHistogram();
    for (let i = 0; i < 95; i++) histogram.record(100);
    // 95 fast answers and 5 running: rank 95 of 100 is still a fast one.
    expect(histogram.percentilesWithRunning([2500, 2600, 2700, 2800, 2900])).toMatchObject({
      p50: expect.closeTo(100, 0),
      p95: expect.closeTo(100, 0),
      count: 100,
    });
    // A sixth running request: rank ceil(0.95 x 101) = 96 is the youngest running one.
    const withSix = histogram.percentilesWithRunning([2900, 2400, 2500, 2600, 2700, 2800]);
    expect(withSix?.count).toBe(101);
    expect(withSix?.p95).toBeCloseTo(2400, -1);
    expect(withSix?.p99).toBeCloseTo(2800, -1);
    expect(withSix?.max).toBe(2900);
    expect(withSix?.mean).toBeCloseTo((95 * 100 + 2400 + 2500 + 2600 + 2700 + 2800 + 2900) / 101, 6);
    // The completed figures are untouched.
    expect(histogram.percentiles()).toMatchObject({ count: 95, max: 100 });
  });

  it('gives figures from running requests alone, and null with nothing at all', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.percentilesWithRunning([])).toBeNull();
    expect(histogram.percentilesWithRunning([3000, 4000])).toMatchObject({ count: 2, p50: expect.closeTo(3000, -1), p95: 4000, max: 4000 });
  });
});
