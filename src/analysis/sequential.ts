// Anytime-valid confidence sequences for a rate (a share of requests that fail, or that run past a limit).
//
// The beta-binomial conjugate-mixture confidence sequence of Howard, Ramdas, McAuliffe & Sekhon,
// "Time-uniform, nonparametric, nonasymptotic confidence sequences" (Annals of Statistics 2021, sec. 3.2 and
// Prop. 6 with the beta mixture): for a candidate rate p, the mixture of likelihood ratios
//
//   M_n(p) = B(a + x, b + n - x) / B(a, b) / (p^x (1 - p)^(n - x))
//
// is a nonnegative martingale with mean 1 when p is the true rate, so by Ville's inequality
// P(M_n(p) >= 1/alpha for some n) <= alpha. The set {p : M_n(p) < 1/alpha} therefore holds the true rate at
// every n at once with probability >= 1 - alpha: it may be looked at after every request, at any interval,
// and stopped on whenever it says so. It depends on the counts (x of n) alone, so a judgement is a pure
// function of the stage's figures however often the engine calls it.
import { logBeta } from './log-beta.js';

/** Beta(a, b) mixing distribution over the rate. */
export interface Prior {
  a: number;
  b: number;
}

export interface Interval {
  lower: number;
  upper: number;
}

/**
 * A Beta prior with mean `center` and the weight of about one failure (a = 1): the mixture is tightest for
 * rates near the limit being judged, which is where a verdict is hard, and still catches gross failures in a
 * handful of requests. (Howard et al. tune the mixture to the sample size where the bound should be tight;
 * one pseudo-failure at the limit keeps it tight from tens to thousands of requests.)
 */
export function priorAround(center: number): Prior {
  const c = Math.min(0.5, Math.max(1e-4, center));
  return { a: 1, b: (1 - c) / c };
}

/** log M_n(p); +Infinity where p is impossible given the counts (p = 0 with failures seen, p = 1 with successes). */
export function logMixtureRatio(x: number, n: number, p: number, prior: Prior): number {
  return logMarginal(x, n, prior) - logLikelihood(x, n, p);
}

/**
 * The (1 - alpha) confidence sequence for a rate after x events in n trials: [lower, upper] with
 * P(the true rate is ever outside) <= alpha. With n = 0 it is [0, 1].
 */
export function rateInterval(x: number, n: number, alpha: number, prior: Prior): Interval {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(n >= 0 && x >= 0 && x <= n)) throw new RangeError(`need 0 <= x <= n, got x=${x}, n=${n}`);
  if (n === 0) return { lower: 0, upper: 1 };
  const bound = Math.log(1 / alpha) - logMarginal(x, n, prior);
  // -log likelihood is convex in p with its minimum at x/n, where M_n <= 1 < 1/alpha: the set is an interval
  // around x/n, found by bisection on each side.
  const estimate = x / n;
  const inside = (p: number): boolean => -logLikelihood(x, n, p) < bound;
  const lower = x === 0 ? 0 : bisect(0, estimate, inside, 'lower');
  const upper = x === n ? 1 : bisect(estimate, 1, inside, 'upper');
  return { lower, upper };
}

/**
 * The confidence sequence for a rate when `unknown` of the n outcomes are not seen (requests still running,
 * client aborts): the lower bound as if none of them were events, the upper as if all were. Both hold whenever
 * the sequence on the true counts does (its lower bound grows with the count, its upper bound too), so the pair
 * holds with the same 1 - alpha.
 */
export function censoredInterval(x: number, unknown: number, n: number, alpha: number, prior: Prior): Interval {
  const high = Math.min(n, x + unknown);
  if (high === x) return rateInterval(x, n, alpha, prior);
  return { lower: rateInterval(x, n, alpha, prior).lower, upper: rateInterval(high, n, alpha, prior).upper };
}

/** One arm's counts for a comparison: x events in n trials, `unknown` more trials whose outcome is not seen yet. */
export interface ArmCounts {
  x: number;
  n: number;
  unknown?: number;
}

/**
 * An interval for green's rate minus blue's from one confidence sequence per arm at alpha / 2 each: both hold
 * at once with probability >= 1 - alpha (Bonferroni), and then the true difference lies within
 * [green.lower - blue.upper, green.upper - blue.lower]. Conservative, but valid on two streams whose split
 * changes at every stage, since each arm's sequence is about that arm's requests alone. An arm's `unknown`
 * trials count among its n, as events for its upper bound and not for its lower (censoredInterval).
 */
export function differenceInterval(green: ArmCounts, blue: ArmCounts, alpha: number, prior: Prior): Interval {
  const g = armInterval(green, alpha / 2, prior);
  const b = armInterval(blue, alpha / 2, prior);
  return { lower: g.lower - b.upper, upper: g.upper - b.lower };
}

function armInterval(arm: ArmCounts, alpha: number, prior: Prior): Interval {
  const unknown = arm.unknown ?? 0;
  return censoredInterval(arm.x, unknown, arm.n + unknown, alpha, prior);
}

function logMarginal(x: number, n: number, prior: Prior): number {
  return logBeta(prior.a + x, prior.b + n - x) - logBeta(prior.a, prior.b);
}

function logLikelihood(x: number, n: number, p: number): number {
  const hits = x === 0 ? 0 : x * Math.log(p);
  const misses = n - x === 0 ? 0 : (n - x) * Math.log1p(-p);
  return hits + misses;
}

const ITERATIONS = 36;

/** The edge of the set between `from` and `to`: `inside` holds at one end (the estimate) and not past the edge. */
function bisect(from: number, to: number, inside: (p: number) => boolean, side: 'lower' | 'upper'): number {
  let lo = from;
  let hi = to;
  for (let i = 0; i < ITERATIONS; i++) {
    const mid = (lo + hi) / 2;
    // Lower edge: everything above it (towards the estimate) is inside; upper edge: everything below it.
    if (inside(mid) === (side === 'lower')) hi = mid;
    else lo = mid;
  }
  // Report the outer end, so rounding never narrows the interval.
  return side === 'lower' ? lo : hi;
}
