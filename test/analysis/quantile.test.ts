// The p95 confidence sequence: its rank thresholds against the rate sequence itself, its bounds on known data,
// and seeded coverage simulations (continuous and tied latencies).
import { describe, expect, it } from 'vitest';
import { createRandom as random } from '../../src/core/random.js';
import { fewestOverAbove, mostOverBelow, priorAround, quantileInterval, rateBounds } from '../../src/analysis/index.js';
import { BucketCounter, bucketLowerMs, bucketOf, bucketUpperMs, HIGHEST_MS, LOWEST_MS } from '../../src/metrics/index.js';
import { sampleLognormal } from '../../src/sim/lognormal.js';

const prior = priorAround(0.05);

function bucketsOf(values: readonly number[]) {
  const counter = new BucketCounter();
  for (const value of values) counter.record(value);
  return counter.snapshot();
}

describe('rank thresholds', () => {
  it('are the counts where the rate sequence puts the share over a value below / above 5%', () => {
    for (const n of [1, 20, 57, 200, 1000, 4000]) {
      for (const alpha of [0.05, 0.0005]) {
        const upperBelow = (x: number) => rateBounds(x, n, alpha, prior).upper < 0.05;
        const lowerAbove = (x: number) => rateBounds(x, n, alpha, prior).lower > 0.05;
        let most = -1;
        while (most + 1 <= n && upperBelow(most + 1)) most++;
        let fewest = n + 1;
        while (fewest - 1 >= 0 && lowerAbove(fewest - 1)) fewest--;
        expect(mostOverBelow(n, 0.05, alpha, prior), `n=${n} alpha=${alpha}`).toBe(most);
        expect(fewestOverAbove(n, 0.05, alpha, prior), `n=${n} alpha=${alpha}`).toBe(fewest);
      }
    }
  });

  it('say nothing on a handful of requests, and close in on n x 5% as n grows', () => {
    expect(mostOverBelow(20, 0.05, 0.001, prior)).toBe(-1);
    expect(fewestOverAbove(3, 0.05, 0.001, prior)).toBe(4);
    const n = 100_000;
    expect(mostOverBelow(n, 0.05, 0.001, prior) / n).toBeGreaterThan(0.046);
    expect(fewestOverAbove(n, 0.05, 0.001, prior) / n).toBeLessThan(0.054);
  });
});

describe('latency buckets', () => {
  it('hold each latency within (lower, upper], at most 2% apart, clamped to 1 µs .. 1 h', () => {
    for (const ms of [0.0011, 0.5, 1, 1.02, 99.9, 250, 6200, 59_999]) {
      const index = bucketOf(ms);
      expect(bucketLowerMs(index)).toBeLessThan(ms);
      expect(bucketUpperMs(index)).toBeGreaterThanOrEqual(ms);
      expect(bucketUpperMs(index) / bucketLowerMs(index)).toBeCloseTo(1.02, 12);
    }
    expect(bucketOf(0)).toBe(bucketOf(LOWEST_MS));
    expect(bucketOf(1e12)).toBe(bucketOf(HIGHEST_MS));
  });

  it('have edges of exactly 1.02^i, inside the range bucketOf looks at and outside it', () => {
    for (let index = bucketOf(LOWEST_MS) - 5; index <= bucketOf(HIGHEST_MS) + 5; index++) {
      expect(bucketUpperMs(index)).toBe(1.02 ** index);
      expect(bucketLowerMs(index)).toBe(1.02 ** (index - 1));
    }
    // Each latency in the one bucket whose (lower, upper] holds it, edges included.
    for (let index = bucketOf(LOWEST_MS) + 1; index <= bucketOf(HIGHEST_MS); index += 7) {
      expect(bucketOf(1.02 ** index)).toBe(index);
      expect(bucketOf(1.02 ** index * (1 + 1e-12))).toBe(index + 1);
    }
  });
});

describe('quantileInterval', () => {
  it('brackets the p95 of known data between the order statistics the rank thresholds name', () => {
    // 1000 latencies 1..1000 ms: the p95 is 950 ms.
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    const alpha = 0.001;
    const interval = quantileInterval({ buckets: bucketsOf(values), running: 0 }, 0.95, alpha);
    // Each edge is a one-sided bound spending the whole alpha on its side.
    const most = mostOverBelow(1000, 0.05, alpha, prior);
    const fewest = fewestOverAbove(1000, 0.05, alpha, prior);
    // Upper: the value with `most` requests above it, at its bucket's upper edge; lower: the value with
    // `fewest` requests at or above it, at its bucket's lower edge.
    expect(interval.upper).toBeCloseTo(bucketUpperMs(bucketOf(1000 - most)), 9);
    expect(interval.lower).toBeCloseTo(bucketLowerMs(bucketOf(1000 - fewest + 1)), 9);
    expect(interval.lower).toBeLessThan(950);
    expect(interval.upper).toBeGreaterThan(950);
    expect(interval.lower).toBeGreaterThan(900);
    expect(interval.upper).toBeLessThan(1000);
    expect(interval.estimate).toBeGreaterThan(940);
    expect(interval.estimate).toBeLessThan(960);
  });

  it('says nothing with no requests; running requests only widen it', () => {
    expect(quantileInterval({ buckets: undefined, running: 0 }, 0.95, 0.01)).toEqual({ estimate: null, lower: LOWEST_MS, upper: HIGHEST_MS });
    const values = Array.from({ length: 400 }, (_, i) => 100 + i);
    const base = quantileInterval({ buckets: bucketsOf(values), running: 0 }, 0.95, 0.01);
    const unknown = quantileInterval({ buckets: bucketsOf(values), running: 30 }, 0.95, 0.01);
    expect(unknown.upper).toBeGreaterThan(base.upper);
    expect(unknown.lower).toBeLessThanOrEqual(base.lower);
    // Running for 10 s already: they are slow for sure, which lifts the lower bound.
    const aged = quantileInterval({ buckets: bucketsOf(values), running: 30, runningAgesMs: new Array<number>(30).fill(10_000) }, 0.95, 0.01);
    expect(aged.lower).toBeGreaterThan(base.lower);
  });

  it('rejects a p or alpha outside (0, 1)', () => {
    expect(() => quantileInterval({ buckets: undefined, running: 0 }, 1, 0.01)).toThrow(RangeError);
    expect(() => quantileInterval({ buckets: undefined, running: 0 }, 0.95, 0)).toThrow(RangeError);
  });
});

/**
 * Share of seeded sequences whose lower bound (lower) or upper bound (upper) ever misses the true p95, looked at
 * every `every` requests: each is one-sided, holding with 1 - alpha on its own. Both sides from one pass over each
 * sequence (a side stops counting at its first miss): the same draws and looks as a pass per side, at half the
 * intervals computed (the suite's time).
 */
function missRates(
  draw: (rng: () => number) => number,
  truth: number,
  alpha: number,
  sequences: number,
  length: number,
  every: number,
): { lower: number; upper: number } {
  const missed = { lower: 0, upper: 0 };
  for (let s = 0; s < sequences; s++) {
    const rng = random(1000 + s);
    const counter = new BucketCounter();
    let lowerMissed = false;
    let upperMissed = false;
    for (let n = 1; n <= length && !(lowerMissed && upperMissed); n++) {
      counter.record(draw(rng));
      if (n % every !== 0) continue;
      const { lower, upper } = quantileInterval({ buckets: counter.snapshot(), running: 0 }, 0.95, alpha);
      lowerMissed ||= lower > truth;
      upperMissed ||= upper < truth;
    }
    if (lowerMissed) missed.lower++;
    if (upperMissed) missed.upper++;
  }
  return { lower: missed.lower / sequences, upper: missed.upper / sequences };
}

describe('coverage (seeded)', () => {
  it('each bound holds the true p95 of a lognormal at every look for at least 1 - alpha of sequences', () => {
    const alpha = 0.1;
    const rates = missRates((rng) => sampleLognormal(rng, 300, 900), 900, alpha, 400, 2000, 10);
    for (const side of ['lower', 'upper'] as const) expect(rates[side], side).toBeLessThanOrEqual(alpha);
  });

  it('holds on tied latencies too, where the p95 sits on a value many requests share', () => {
    // P(100) = 0.9, P(200) = 0.06, P(300) = 0.04: the p95 is 200 ms, with 4% above it and 10% at or above.
    const draw = (rng: () => number) => {
      const u = rng();
      return u < 0.9 ? 100 : u < 0.96 ? 200 : 300;
    };
    const alpha = 0.1;
    const rates = missRates(draw, 200, alpha, 400, 2000, 10);
    for (const side of ['lower', 'upper'] as const) expect(rates[side], side).toBeLessThanOrEqual(alpha);
  });
});
