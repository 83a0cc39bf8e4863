// The confidence sequence against values worked out independently, and seeded coverage simulations.
import { describe, expect, it } from 'vitest';
import { createRandom as random } from '../../src/core/random.js';
import { differenceInterval, logMixtureRatio, priorAround, rateInterval } from '../../src/analysis/index.js';
import { formatAtMost, formatConfidence } from '../../src/analysis/format.js';

/** log B(a, b) for whole a, b from factorials: an independent route to the mixture's normaliser. */
function logBetaWhole(a: number, b: number): number {
  const logFactorial = (k: number) => {
    let sum = 0;
    for (let i = 2; i <= k; i++) sum += Math.log(i);
    return sum;
  };
  return logFactorial(a - 1) + logFactorial(b - 1) - logFactorial(a + b - 1);
}

describe('priorAround', () => {
  it('has its mean at the centre with the weight of one failure', () => {
    expect(priorAround(0.05).a).toBe(1);
    expect(priorAround(0.05).b).toBeCloseTo(19, 9);
    expect(priorAround(0.5)).toEqual({ a: 1, b: 1 });
    // Clamped: a limit of 0 or 1 still gives a proper prior.
    expect(priorAround(0).b).toBeCloseTo(9999, 6);
    expect(priorAround(0.9)).toEqual({ a: 1, b: 1 });
  });
});

describe('logMixtureRatio', () => {
  it('matches the beta-binomial mixture computed from factorials', () => {
    const prior = { a: 1, b: 19 };
    for (const [x, n, p] of [
      [3, 40, 0.05],
      [0, 10, 0.2],
      [12, 132, 0.05],
      [7, 7, 0.5],
    ] as const) {
      const expected = logBetaWhole(1 + x, 19 + n - x) - logBetaWhole(1, 19) - (x * Math.log(p) + (n - x) * Math.log(1 - p));
      expect(logMixtureRatio(x, n, p, prior)).toBeCloseTo(expected, 9);
    }
  });

  it('is 0 before any sample, and never above log(1) at the estimate', () => {
    expect(logMixtureRatio(0, 0, 0.3, priorAround(0.05))).toBe(0);
    expect(logMixtureRatio(12, 132, 12 / 132, priorAround(0.05))).toBeLessThan(0);
  });
});

describe('rateInterval', () => {
  const prior = priorAround(0.05);

  it('is [0, 1] with no samples, and rejects impossible counts', () => {
    expect(rateInterval(0, 0, 0.01, prior)).toEqual({ lower: 0, upper: 1 });
    expect(() => rateInterval(5, 4, 0.01, prior)).toThrow(RangeError);
    expect(() => rateInterval(1, 4, 0, prior)).toThrow(RangeError);
  });

  it('has the closed-form upper bound with no failures: 1 - (alpha b / (b + n))^(1/n)', () => {
    for (const [n, alpha] of [
      [100, 0.01],
      [20, 0.001],
      [1000, 0.05],
    ] as const) {
      const interval = rateInterval(0, n, alpha, prior);
      expect(interval.lower).toBe(0);
      expect(interval.upper).toBeCloseTo(1 - ((alpha * 19) / (19 + n)) ** (1 / n), 8);
    }
  });

  it('has the closed-form lower bound with every trial an event, under the uniform prior: (alpha / (n + 1))^(1/n)', () => {
    // Beta(1, 1): the mixture's normaliser is B(1 + n, 1) = 1 / (n + 1), so M_n(p) = 1 / ((n + 1) p^n).
    const uniform = priorAround(0.5);
    for (const [n, alpha] of [
      [1, 0.05],
      [10, 0.01],
      [250, 0.0005],
    ] as const) {
      const interval = rateInterval(n, n, alpha, uniform);
      expect(interval.upper).toBe(1);
      expect(interval.lower).toBeCloseTo((alpha / (n + 1)) ** (1 / n), 8);
    }
    // A known value: 10 of 10 at alpha 0.01 holds the rate above (0.01 / 11)^(1/10) = exp(-0.70031) = 0.49643
    expect(rateInterval(10, 10, 0.01, uniform).lower).toBeCloseTo(0.49643, 5);
  });

  /**
   * The censored interval (requests still running, client aborts), the latency rules (requests running short of the
   * limit left out) and the quality rule (a running request may yet fail and leave the successes judged) are valid
   * only because the bounds move with the counts this way: each takes a bound from counts that bracket the true ones.
   */
  it('moves with the counts as the censored rules need: both bounds rise with the events, the lower falls with more trials', () => {
    // Below this the bisection's last step (2^-36 of the search range) decides, not the formula.
    const slack = 1e-10;
    for (const center of [0.0001, 0.01, 0.05, 0.3])
      for (const alpha of [0.2, 0.01, 1e-5]) {
        const p = priorAround(center);
        for (const n of [1, 2, 5, 20, 100, 1000, 20_000]) {
          for (let x = 0; x <= Math.min(n, 120); x++) {
            const here = rateInterval(x, n, alpha, p);
            const moreTrials = rateInterval(x, n + 1, alpha, p);
            expect(moreTrials.lower, `lower(${x}, ${n + 1}) <= lower(${x}, ${n})`).toBeLessThanOrEqual(here.lower + slack);
            if (x === n) continue;
            const moreEvents = rateInterval(x + 1, n, alpha, p);
            expect(moreEvents.lower, `lower rises with x at n=${n}`).toBeGreaterThanOrEqual(here.lower - slack);
            expect(moreEvents.upper, `upper rises with x at n=${n}`).toBeGreaterThanOrEqual(here.upper - slack);
            const oneMoreEvent = rateInterval(x + 1, n + 1, alpha, p);
            expect(oneMoreEvent.upper, `upper(${x + 1}, ${n + 1}) >= upper(${x}, ${n})`).toBeGreaterThanOrEqual(here.upper - slack);
          }
        }
      }
  });

  it('has M_n = 1/alpha at both ends and holds the estimate', () => {
    const alpha = 0.0005;
    const { lower, upper } = rateInterval(12, 132, alpha, prior);
    expect(lower).toBeLessThan(12 / 132);
    expect(upper).toBeGreaterThan(12 / 132);
    expect(logMixtureRatio(12, 132, lower, prior)).toBeCloseTo(Math.log(1 / alpha), 6);
    expect(logMixtureRatio(12, 132, upper, prior)).toBeCloseTo(Math.log(1 / alpha), 6);
  });

  it('narrows as evidence grows and widens as alpha shrinks', () => {
    const small = rateInterval(5, 100, 0.01, prior);
    const large = rateInterval(50, 1000, 0.01, prior);
    expect(large.upper - large.lower).toBeLessThan(small.upper - small.lower);
    const strict = rateInterval(5, 100, 0.0001, prior);
    expect(strict.lower).toBeLessThan(small.lower);
    expect(strict.upper).toBeGreaterThan(small.upper);
  });

  /**
   * Share of seeded Bernoulli(p) sequences whose interval ever leaves p, checked after every draw: the interval
   * holds p exactly when M_n(p) < 1/alpha, so the check per step is O(1).
   */
  function missRate(p: number, alpha: number, sequences: number, length: number, seedBase: number): number {
    let missed = 0;
    for (let seq = 0; seq < sequences; seq++) {
      const next = random(seedBase + seq);
      let x = 0;
      for (let n = 1; n <= length; n++) {
        if (next() < p) x++;
        if (logMixtureRatio(x, n, p, prior) >= Math.log(1 / alpha)) {
          missed++;
          break;
        }
      }
    }
    return missed / sequences;
  }

  it('covers the true rate at every step of >= 1 - alpha of seeded sequences (time-uniform)', () => {
    expect(missRate(0.05, 0.05, 400, 1500, 1000)).toBeLessThanOrEqual(0.05);
  });

  it('holds a rate far from the prior too (the prior shapes width, never validity)', () => {
    expect(missRate(0.3, 0.05, 300, 800, 5000)).toBeLessThanOrEqual(0.05);
  });

  /**
   * Share of seeded sequences whose lower bound ever passes `limit` when the rate at draw n is rate(n): the breach of
   * a rate rule. Any rate at or under the limit at every draw breaches in at most alpha of them (each draw can be
   * coupled with one at the limit that fails whenever it does, and the lower bound rises with the failures).
   */
  function breachRate(rate: (n: number) => number, limit: number, alpha: number, sequences: number, length: number, seedBase: number): number {
    const p = priorAround(limit);
    let breached = 0;
    for (let seq = 0; seq < sequences; seq++) {
      const next = random(seedBase + seq);
      let x = 0;
      for (let n = 1; n <= length; n++) {
        if (next() < rate(n)) x++;
        // lower > limit exactly when M_n(limit) >= 1/alpha with the estimate above the limit.
        if (x / n > limit && logMixtureRatio(x, n, limit, p) >= Math.log(1 / alpha)) {
          breached++;
          break;
        }
      }
    }
    return breached / sequences;
  }

  it('breaches in at most alpha of sequences whose rate moves but never passes the limit (bursts up to it)', () => {
    // 5% for 100 draws in every 300, 1% between: a burst up to the limit, never over it.
    expect(breachRate((n) => (n % 300 < 100 ? 0.05 : 0.01), 0.05, 0.1, 400, 1500, 20_000)).toBeLessThanOrEqual(0.1);
    expect(breachRate(() => 0.05, 0.05, 0.1, 400, 1500, 30_000)).toBeLessThanOrEqual(0.1);
  });

  it('is no promise for a rate over the limit for a while, however low its average: it judges the requests so far', () => {
    // The first 100 draws at 20%, then 0.5% (2% on average over 1,500): rolled back on its start, rightly so by the
    // test's promise (the rate of the requests so far was over 5%), though the whole stream is well within it.
    const opening = breachRate((n) => (n <= 100 ? 0.2 : 0.005), 0.05, 0.1, 400, 1500, 40_000);
    expect(opening).toBeGreaterThan(0.5);
  });
});

describe('differenceInterval', () => {
  it('is green lower minus blue upper, and green upper minus blue lower, each at alpha / 2', () => {
    const prior = priorAround(0.05);
    const g = rateInterval(20, 100, 0.005, prior);
    const b = rateInterval(10, 400, 0.005, prior);
    expect(differenceInterval({ x: 20, n: 100 }, { x: 10, n: 400 }, 0.01, prior)).toEqual({ lower: g.lower - b.upper, upper: g.upper - b.lower });
  });

  it('covers the true difference of two seeded streams of unequal size', () => {
    const prior = priorAround(0.05);
    let missed = 0;
    for (let seq = 0; seq < 200; seq++) {
      const next = random(9000 + seq);
      const green = { x: 0, n: 0 };
      const blue = { x: 0, n: 0 };
      for (let i = 0; i < 600; i++) {
        const arm = next() < 0.25 ? green : blue;
        arm.n++;
        if (next() < 0.04) arm.x++;
        if (i % 20 === 19 && green.n > 0 && blue.n > 0) {
          const { lower, upper } = differenceInterval(green, blue, 0.1, prior);
          if (lower > 0 || upper < 0) {
            missed++;
            break;
          }
        }
      }
    }
    expect(missed / 200).toBeLessThanOrEqual(0.1);
  });
});

describe('how confidence levels and the false-rollback budget read', () => {
  it('shows a confidence rounded down, with the decimals a very high level needs', () => {
    expect(formatConfidence(0.99)).toBe('99%');
    expect(formatConfidence(1 - 0.01 / 15)).toBe('99.93%');
    expect(formatConfidence(0.9995)).toBe('99.95%');
    expect(formatConfidence(0.75)).toBe('75%');
    // Was "99.99%": true, but it hid the level the plan asked for.
    expect(formatConfidence(1 - 1e-7 / 2)).toBe('99.999995%');
  });

  it('shows the false-rollback budget rounded up, never as 0%', () => {
    expect(formatAtMost(1 - 0.99)).toBe('1%');
    expect(formatAtMost(0.5)).toBe('50%');
    expect(formatAtMost(1 - 0.9995)).toBe('0.05%');
    // confidence: 0.9999999 read "at most 0% false rollbacks".
    expect(formatAtMost(1 - 0.9999999)).toBe('0.00001%');
    expect(formatAtMost(1e-13)).toBe('0.00000001%');
  });
});
