// The one-sided confidence bounds against values worked out independently, their properties, seeded coverage
// simulations, and the requests to a breach against the two-sided interval they replaced (session 30).
import { describe, expect, it } from 'vitest';
import { createRandom as random } from '../../src/core/random.js';
import { differenceBounds, logOneSidedRatio, priorAround, rateBounds } from '../../src/analysis/index.js';
import { logBeta, logBetaTail } from '../../src/analysis/log-beta.js';
import { formatAtMost, formatConfidence } from '../../src/analysis/format.js';

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

/** log M_n(p) of the two-sided mixture (over every rate), the one the rate rules used before session 30. */
function logTwoSided(x: number, n: number, p: number, prior: { a: number; b: number }): number {
  return logBeta(prior.a + x, prior.b + n - x) - logBeta(prior.a, prior.b) - (x > 0 ? x * Math.log(p) : 0) - (n > x ? (n - x) * Math.log1p(-p) : 0);
}

describe('logBetaTail', () => {
  it('is the binomial tail for whole a, b: I_x(a, b) = P(Binomial(a + b - 1, x) >= a)', () => {
    const logFactorial = (k: number): number => (k < 2 ? 0 : Math.log(k) + logFactorial(k - 1));
    const binomialTail = (n: number, p: number, k: number) => {
      let sum = 0;
      for (let j = k; j <= n; j++) sum += Math.exp(logFactorial(n) - logFactorial(j) - logFactorial(n - j) + j * Math.log(p) + (n - j) * Math.log1p(-p));
      return sum;
    };
    for (const [x, a, b] of [
      [0.05, 1, 19],
      [0.3, 3, 10],
      [0.07, 13, 120],
      [0.5, 40, 45],
      [0.01, 2, 500],
      [0.2, 30, 70],
      [0.9, 5, 2],
    ] as const) {
      const tail = binomialTail(a + b - 1, x, a);
      expect(Math.exp(logBetaTail(x, a, b, 'lower')), `I_${x}(${a}, ${b})`).toBeCloseTo(tail, 10);
      expect(Math.exp(logBetaTail(x, a, b, 'upper'))).toBeCloseTo(1 - tail, 10);
    }
  });

  it('keeps its digits at the ends and at counts in the millions', () => {
    // Beta(1, b): P(> x) = (1 - x)^b exactly.
    expect(logBetaTail(0.01, 1, 1e6, 'upper')).toBeCloseTo(1e6 * Math.log1p(-0.01), 6);
    expect(logBetaTail(1e-9, 1, 19, 'upper')).toBeCloseTo(19 * Math.log1p(-1e-9), 15);
    expect(logBetaTail(0, 2, 3, 'lower')).toBe(-Infinity);
    expect(logBetaTail(1, 2, 3, 'upper')).toBe(-Infinity);
  });
});

describe('logOneSidedRatio', () => {
  it('is the one-sided mixture integrated independently: ∫ over q > p (or < p) of the likelihood ratio, by quadrature', () => {
    // Composite Simpson's rule on the truncated Beta(1, b) mixture, a route that shares nothing with the code's.
    const prior = { a: 1, b: 19 };
    const density = (q: number) => prior.b * (1 - q) ** (prior.b - 1);
    const simpson = (f: (q: number) => number, from: number, to: number, steps = 20_000) => {
      const h = (to - from) / steps;
      let sum = f(from) + f(to);
      for (let i = 1; i < steps; i++) sum += (i % 2 === 1 ? 4 : 2) * f(from + i * h);
      return (sum * h) / 3;
    };
    for (const [x, n, p] of [
      [3, 40, 0.05],
      [12, 132, 0.05],
      [0, 10, 0.2],
      [7, 30, 0.1],
    ] as const) {
      const ratio = (q: number) => (q / p) ** x * ((1 - q) / (1 - p)) ** (n - x) * density(q);
      const above = simpson(ratio, p, 1) / simpson(density, p, 1);
      const below = simpson(ratio, 0, p) / simpson(density, 0, p);
      expect(logOneSidedRatio(x, n, p, prior, 'above'), `above ${x}/${n} at ${p}`).toBeCloseTo(Math.log(above), 6);
      expect(logOneSidedRatio(x, n, p, prior, 'below'), `below ${x}/${n} at ${p}`).toBeCloseTo(Math.log(below), 6);
    }
  });

  it('is 0 before any sample, and grows with the events on its side (M+ rises with x, M- falls)', () => {
    const prior = priorAround(0.05);
    expect(logOneSidedRatio(0, 0, 0.3, prior, 'above')).toBe(0);
    for (let x = 0; x < 40; x++) {
      expect(logOneSidedRatio(x + 1, 200, 0.05, prior, 'above')).toBeGreaterThan(logOneSidedRatio(x, 200, 0.05, prior, 'above'));
      expect(logOneSidedRatio(x + 1, 200, 0.05, prior, 'below')).toBeLessThan(logOneSidedRatio(x, 200, 0.05, prior, 'below'));
    }
  });
});

describe('rateBounds', () => {
  const prior = priorAround(0.05);

  it('are 0 and 1 with no samples, and reject impossible counts', () => {
    expect(rateBounds(0, 0, 0.01, prior)).toEqual({ lower: 0, upper: 1 });
    expect(() => rateBounds(5, 4, 0.01, prior)).toThrow(RangeError);
    expect(() => rateBounds(1, 4, 0, prior)).toThrow(RangeError);
  });

  it('match values computed independently (mpmath quadrature of the truncated mixture, 40 digits)', () => {
    // mpmath 1.3: M+ and M- as quad() over [p, 1] and [0, p] of the Beta(1, b) density times the likelihood ratio,
    // each divided by the prior's mass there, and the p where each equals 1/alpha found by 200 bisection steps.
    for (const [x, n, alpha, center, lower, upper] of [
      [30, 132, 0.01, 0.05, 0.118654938055, 0.396115107593],
      [12, 132, 0.0005, 0.05, 0.0208756895393, 0.233411373137],
      [3, 400, 0.002, 0.01, 0.00028146681142, 0.0363400327991],
    ] as const) {
      const bounds = rateBounds(x, n, alpha, priorAround(center));
      expect(bounds.lower, `lower ${x}/${n}`).toBeCloseTo(lower, 9);
      expect(bounds.upper, `upper ${x}/${n}`).toBeCloseTo(upper, 9);
    }
    // log M+_132(5%) after 30 failures, the breach test at the limit: 21.4561344505 by the same quadrature.
    expect(logOneSidedRatio(30, 132, 0.05, prior, 'above')).toBeCloseTo(21.4561344505, 8);
  });

  it('has the closed-form upper bound with no failures, below the two-sided one', () => {
    // Beta(1, b) restricted to q < p: M-_n(p) = b (1 - (1 - p)^(n + b)) / ((n + b) (1 - (1 - p)^b) (1 - p)^n).
    const b = 19;
    const closed = (n: number, p: number) => (b * (1 - (1 - p) ** (n + b))) / ((n + b) * (1 - (1 - p) ** b) * (1 - p) ** n);
    for (const [n, alpha] of [
      [100, 0.01],
      [20, 0.001],
      [1000, 0.05],
    ] as const) {
      const bounds = rateBounds(0, n, alpha, prior);
      expect(bounds.lower).toBe(0);
      expect(Math.log(closed(n, bounds.upper))).toBeCloseTo(Math.log(1 / alpha), 6);
      // The two-sided mixture's closed form, 1 - (alpha b / (b + n))^(1/n): the one-sided bound is tighter.
      expect(bounds.upper).toBeLessThan(1 - ((alpha * b) / (b + n)) ** (1 / n));
    }
  });

  it('has the closed-form lower bound with every trial an event, under the uniform prior', () => {
    // Beta(1, 1) restricted to q > p: M+_n(p) = (1 - p^(n + 1)) / ((n + 1) (1 - p) p^n).
    const uniform = priorAround(0.5);
    const closed = (n: number, p: number) => (1 - p ** (n + 1)) / ((n + 1) * (1 - p) * p ** n);
    for (const [n, alpha] of [
      [1, 0.05],
      [10, 0.01],
      [250, 0.0005],
    ] as const) {
      const bounds = rateBounds(n, n, alpha, uniform);
      expect(bounds.upper).toBe(1);
      expect(Math.log(closed(n, bounds.lower))).toBeCloseTo(Math.log(1 / alpha), 6);
      // Above the two-sided mixture's (alpha / (n + 1))^(1/n).
      expect(bounds.lower).toBeGreaterThan((alpha / (n + 1)) ** (1 / n));
    }
  });

  it('rejects one interval of rates on each side (what the bisection assumes), checked on a grid', () => {
    const bound = Math.log(1 / 0.01);
    for (const center of [0.01, 0.05, 0.2]) {
      const p = priorAround(center);
      for (const n of [1, 3, 10, 50, 300, 2000]) {
        for (let x = 0; x <= n; x += Math.max(1, Math.floor(n / 12))) {
          let rejectedBelow = true;
          let rejectedAbove = false;
          for (let i = 1; i < 200; i++) {
            const rate = i / 200;
            const below = logOneSidedRatio(x, n, rate, p, 'above') >= bound;
            expect(!below || rejectedBelow, `M+ rejects ${rate} after accepting a lower rate (${x}/${n})`).toBe(true);
            rejectedBelow = below;
            const above = logOneSidedRatio(x, n, rate, p, 'below') >= bound;
            expect(above || !rejectedAbove, `M- accepts ${rate} after rejecting a lower rate (${x}/${n})`).toBe(true);
            rejectedAbove = above;
          }
        }
      }
    }
  });

  /**
   * The censored bounds (requests still running, client aborts), the latency rules (requests running short of the
   * limit left out) and the quality rule (a running request may yet fail and leave the successes judged) are valid
   * only because the bounds move with the counts this way: each takes a bound from counts that bracket the true ones.
   */
  it('move with the counts as the censored rules need: both rise with the events, the lower falls with more trials; the estimate between', () => {
    // Below this the bisection's last step (2^-36 of the search range) decides, not the formula.
    const slack = 1e-10;
    for (const center of [0.0001, 0.01, 0.05, 0.3])
      for (const alpha of [0.2, 0.01, 1e-5]) {
        const p = priorAround(center);
        for (const n of [1, 2, 5, 20, 100, 1000, 20_000]) {
          for (let x = 0; x <= Math.min(n, 60); x++) {
            const here = rateBounds(x, n, alpha, p);
            expect(here.lower).toBeLessThanOrEqual(x / n);
            expect(here.upper).toBeGreaterThanOrEqual(x / n);
            const moreTrials = rateBounds(x, n + 1, alpha, p);
            expect(moreTrials.lower, `lower(${x}, ${n + 1}) <= lower(${x}, ${n})`).toBeLessThanOrEqual(here.lower + slack);
            if (x === n) continue;
            const moreEvents = rateBounds(x + 1, n, alpha, p);
            expect(moreEvents.lower, `lower rises with x at n=${n}`).toBeGreaterThanOrEqual(here.lower - slack);
            expect(moreEvents.upper, `upper rises with x at n=${n}`).toBeGreaterThanOrEqual(here.upper - slack);
            const oneMoreEvent = rateBounds(x + 1, n + 1, alpha, p);
            expect(oneMoreEvent.upper, `upper(${x + 1}, ${n + 1}) >= upper(${x}, ${n})`).toBeGreaterThanOrEqual(here.upper - slack);
          }
        }
      }
  });

  it('narrow as evidence grows and widen as alpha shrinks; each within the two-sided interval at the same alpha', () => {
    const small = rateBounds(5, 100, 0.01, prior);
    const large = rateBounds(50, 1000, 0.01, prior);
    expect(large.upper - large.lower).toBeLessThan(small.upper - small.lower);
    const strict = rateBounds(5, 100, 0.0001, prior);
    expect(strict.lower).toBeLessThan(small.lower);
    expect(strict.upper).toBeGreaterThan(small.upper);
    // The two-sided interval's ends at 5 of 100: where its mixture reaches 1/alpha on either side of 5%.
    const bound = Math.log(1 / 0.01);
    expect(logTwoSided(5, 100, small.lower, prior)).toBeLessThan(bound);
    expect(logTwoSided(5, 100, small.upper, prior)).toBeLessThan(bound);
    // Everywhere: a rate the two-sided mixture rejects on one side, the one-sided one rejects too (sequential.ts),
    // so on the same requests a breach comes no later than before and an ok no later either.
    for (const n of [10, 57, 300, 2000])
      for (let x = 0; x <= n; x += Math.max(1, Math.floor(n / 15))) {
        const { lower, upper } = rateBounds(x, n, 0.01, prior);
        if (x > 0) expect(logTwoSided(x, n, lower * (1 + 1e-9), prior), `lower ${x}/${n}`).toBeLessThan(bound);
        if (x < n) expect(logTwoSided(x, n, upper * (1 - 1e-9), prior), `upper ${x}/${n}`).toBeLessThan(bound);
      }
  });

  /**
   * Share of seeded Bernoulli(p) sequences whose lower (or upper) bound ever passes p, checked after every draw:
   * the lower bound passes p exactly when M+_n(p) >= 1/alpha, so the check per step is O(1).
   */
  function missRate(p: number, alpha: number, sequences: number, length: number, seedBase: number, side: 'above' | 'below'): number {
    let missed = 0;
    for (let seq = 0; seq < sequences; seq++) {
      const next = random(seedBase + seq);
      let x = 0;
      for (let n = 1; n <= length; n++) {
        if (next() < p) x++;
        if (logOneSidedRatio(x, n, p, prior, side) >= Math.log(1 / alpha)) {
          missed++;
          break;
        }
      }
    }
    return missed / sequences;
  }

  it('each bound holds the true rate at every step for >= 1 - alpha of seeded sequences (time-uniform)', () => {
    expect(missRate(0.05, 0.05, 400, 1500, 1000, 'above')).toBeLessThanOrEqual(0.05);
    expect(missRate(0.05, 0.05, 400, 1500, 1000, 'below')).toBeLessThanOrEqual(0.05);
  });

  it('holds a rate far from the prior too (the prior shapes width, never validity)', () => {
    expect(missRate(0.3, 0.05, 300, 800, 5000, 'above')).toBeLessThanOrEqual(0.05);
    expect(missRate(0.3, 0.05, 300, 800, 5000, 'below')).toBeLessThanOrEqual(0.05);
  });

  /**
   * Share of seeded sequences whose lower bound ever passes `limit` when the rate at draw n is rate(n): the breach of
   * a rate rule. Any rate at or under the limit at every draw breaches in at most alpha of them (M+_n(limit) is then a
   * supermartingale: see sequential.ts).
   */
  function breachRate(rate: (n: number) => number, limit: number, alpha: number, sequences: number, length: number, seedBase: number): number {
    const p = priorAround(limit);
    let breached = 0;
    for (let seq = 0; seq < sequences; seq++) {
      const next = random(seedBase + seq);
      let x = 0;
      for (let n = 1; n <= length; n++) {
        if (next() < rate(n)) x++;
        // lower > limit exactly when M+_n(limit) >= 1/alpha (the rejected rates are those below the lower bound).
        if (logOneSidedRatio(x, n, limit, p, 'above') >= Math.log(1 / alpha)) {
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

  it('agrees with the bisected lower bound: lower > limit exactly when M+_n(limit) >= 1/alpha', () => {
    const alpha = 0.01;
    for (let x = 0; x <= 40; x++) {
      const breach = rateBounds(x, 200, alpha, prior).lower > 0.05;
      expect(breach, `${x} of 200`).toBe(logOneSidedRatio(x, 200, 0.05, prior, 'above') >= Math.log(1 / alpha));
    }
  });
});

/** Requests until a seeded stream failing at `rate` shows its rate above `limit` (its lower bound over it), median. */
function medianToBreach(limit: number, rate: number, alpha: number, twoSided: boolean, seeds: number): number {
  const prior = priorAround(limit);
  const bound = Math.log(1 / alpha);
  const counts: number[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const next = random(77_000 + seed);
    let x = 0;
    for (let n = 1; ; n++) {
      if (next() < rate) x++;
      const shown = twoSided ? x / n > limit && logTwoSided(x, n, limit, prior) >= bound : logOneSidedRatio(x, n, limit, prior, 'above') >= bound;
      if (shown) {
        counts.push(n);
        break;
      }
    }
  }
  counts.sort((a, b) => a - b);
  return counts[counts.length >> 1] as number;
}

describe('the one-sided test against the two-sided one it replaced', () => {
  it('needs fewer requests to a breach (5% and 1% limits at 1.5-3x, the same seeded streams)', () => {
    // Session 30's measure, 201 streams each: at 5% 1.5x 1,033 -> 907, 2x 289 -> 229, 3x 90 -> 76; at 1% 2x 1,611 -> 1,333.
    for (const [limit, multiple, atLeast] of [
      [0.05, 1.5, 0.08],
      [0.05, 2, 0.1],
      [0.05, 3, 0.08],
      [0.01, 2, 0.1],
    ] as const) {
      const before = medianToBreach(limit, limit * multiple, 0.01, true, 201);
      const after = medianToBreach(limit, limit * multiple, 0.01, false, 201);
      expect(after / before, `${multiple}x ${limit}: ${before} -> ${after}`).toBeLessThan(1 - atLeast);
    }
  });
});

describe('differenceBounds', () => {
  it('is green lower minus blue upper, and green upper minus blue lower, each at alpha / 2', () => {
    const prior = priorAround(0.05);
    const g = rateBounds(20, 100, 0.005, prior);
    const b = rateBounds(10, 400, 0.005, prior);
    expect(differenceBounds({ x: 20, n: 100 }, { x: 10, n: 400 }, 0.01, prior)).toEqual({ lower: g.lower - b.upper, upper: g.upper - b.lower });
  });

  it('each bound holds the true difference of two seeded streams of unequal size', () => {
    const prior = priorAround(0.05);
    let lowerMissed = 0;
    let upperMissed = 0;
    for (let seq = 0; seq < 200; seq++) {
      const next = random(9000 + seq);
      const green = { x: 0, n: 0 };
      const blue = { x: 0, n: 0 };
      let lowerOut = false;
      let upperOut = false;
      for (let i = 0; i < 600; i++) {
        const arm = next() < 0.25 ? green : blue;
        arm.n++;
        if (next() < 0.04) arm.x++;
        if (i % 20 === 19 && green.n > 0 && blue.n > 0) {
          const { lower, upper } = differenceBounds(green, blue, 0.1, prior);
          lowerOut ||= lower > 0;
          upperOut ||= upper < 0;
        }
      }
      if (lowerOut) lowerMissed++;
      if (upperOut) upperMissed++;
    }
    expect(lowerMissed / 200).toBeLessThanOrEqual(0.1);
    expect(upperMissed / 200).toBeLessThanOrEqual(0.1);
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
