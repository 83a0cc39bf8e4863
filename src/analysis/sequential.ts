// Anytime-valid one-sided confidence bounds for a rate (a share of requests that fail, or that run past a limit).
//
// The conjugate-mixture method of Howard, Ramdas, McAuliffe & Sekhon, "Time-uniform, nonparametric,
// nonasymptotic confidence sequences" (Annals of Statistics 2021, sec. 3.2, the beta-binomial mixture), with the
// mixing distribution kept to one side of the rate tested, as their one-sided normal mixture keeps its mixture
// to one sign. For a candidate rate p and a Beta(a, b) prior π, the mixture over the rates above p,
//
//   M+_n(p) = ∫_{q>p} (q/p)^x ((1-q)/(1-p))^(n-x) dπ(q) / π(q > p)
//           = B(a + x, b + n - x) / B(a, b) x P(Beta(a + x, b + n - x) > p) / P(Beta(a, b) > p) / (p^x (1 - p)^(n - x)),
//
// is a nonnegative martingale with mean 1 when p is the true rate, and a supermartingale when the rate of every
// request is p or less (each factor's mean, p' q/p + (1 - p')(1 - q)/(1 - p), is at most 1 for q > p >= p'). By
// Ville's inequality P(M+_n(p) >= 1/alpha for some n) <= alpha: the rates p with M+_n(p) >= 1/alpha, all of
// those below the lower bound, hold the true rate at no n with probability >= 1 - alpha. That bound may be looked
// at after every request, at any interval, and stopped on whenever it says so; it depends on the counts (x of n)
// alone, so a judgement is a pure function of the stage's figures however often the engine calls it. The mixture
// over the rates below p gives the upper bound the same way. Each bound spends the whole alpha on its own side:
// a rule breaches on the lower bound alone (the false rollback its alpha is about) and reads ok on the upper
// alone, so the pair is a (1 - 2 alpha) interval, and each bound a (1 - alpha) one. It rejects every rate on its
// side that the two-sided mixture M_n (π over all rates) rejects: below the estimate each q < p has q's likelihood
// under p's, so M_n(p) < M+_n(p) w + (1 - w) with w = π(q > p), which is under 1/alpha unless M+_n(p) is over it.
// So on the same requests a breach comes no later than with the two-sided interval. Against the two-sided mixture
// (the set {p : M_n(p) < 1/alpha} with π over all rates) this takes 11-18% fewer requests to a breach at 1.5-3x a
// 5% or 1% limit (test/analysis/sequential.test.ts measures it).
import { logBeta, logBetaTail } from './log-beta.js';

/** Beta(a, b) mixing distribution over the rate. */
export interface Prior {
  a: number;
  b: number;
}

/** A one-sided lower and a one-sided upper bound, each holding with 1 - alpha at every n: not a (1 - alpha) interval. */
export interface Bounds {
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

/**
 * log M+_n(p) (side 'above': the mixture over rates above p, which tests "the rate is p or less") or log M-_n(p)
 * (side 'below': over rates below p, testing "p or more"); +Infinity where p is impossible given the counts.
 */
export function logOneSidedRatio(x: number, n: number, p: number, prior: Prior, side: 'above' | 'below'): number {
  return oneSidedTest(x, n, prior, side)(p);
}

/** log M+_n or log M-_n as a function of p, with what does not depend on p worked out once. */
function oneSidedTest(x: number, n: number, prior: Prior, side: 'above' | 'below'): (p: number) => number {
  if (n === 0) return () => 0;
  const tail = side === 'above' ? 'upper' : 'lower';
  const a = prior.a + x;
  const b = prior.b + n - x;
  const logPosterior = logBeta(a, b);
  const logPrior = logBeta(prior.a, prior.b);
  const marginal = logPosterior - logPrior;
  // Impossible rates: no rate above 1 or below 0 to mix over, and a likelihood of 0 there.
  const impossible = side === 'above' ? (x > 0 ? Infinity : 0) : x < n ? Infinity : 0;
  return (p) => {
    const restricted = logBetaTail(p, prior.a, prior.b, tail, logPrior);
    if (restricted === -Infinity) return impossible;
    return marginal + logBetaTail(p, a, b, tail, logPosterior) - restricted - logLikelihood(x, n, p);
  };
}

/**
 * The one-sided bounds for a rate after x events in n trials, each at 1 - alpha: P(the true rate is ever below
 * `lower`) <= alpha and P(ever above `upper`) <= alpha. With n = 0 they are 0 and 1.
 */
export function rateBounds(x: number, n: number, alpha: number, prior: Prior): Bounds {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(n >= 0 && x >= 0 && x <= n)) throw new RangeError(`need 0 <= x <= n, got x=${x}, n=${n}`);
  if (n === 0) return { lower: 0, upper: 1 };
  const bound = Math.log(1 / alpha);
  // At the estimate x/n neither mixture reaches 1 (the likelihood is at its peak there), and each grows without
  // bound away from it on its own side: M+ towards 0 (with x > 0), M- towards 1 (with x < n). Each edge is found
  // by a bracketing search; test/analysis/sequential.test.ts checks on a grid that the rates rejected form one
  // interval on each side.
  const estimate = x / n;
  const above = oneSidedTest(x, n, prior, 'above');
  const below = oneSidedTest(x, n, prior, 'below');
  // Searched in log p (log(1 - p) for the upper), where log M is nearly straight: a few steps find the edge.
  const lower = x === 0 ? 0 : Math.exp(edge(Math.log(estimate), (u) => above(Math.exp(u)) - bound, estimate));
  const upper = x === n ? 1 : -Math.expm1(edge(Math.log1p(-estimate), (u) => below(-Math.expm1(u)) - bound, 1 - estimate));
  return { lower, upper };
}

/**
 * The bounds for a rate when `unknown` of the n outcomes are not seen (requests still running, client aborts):
 * the lower as if none of them were events, the upper as if all were. Both hold whenever the bounds on the true
 * counts do (M+ grows with the events at a given n, so the lower bound only rises with them; M- falls, so the
 * upper only rises too), so each holds with the same 1 - alpha.
 */
export function censoredBounds(x: number, unknown: number, n: number, alpha: number, prior: Prior): Bounds {
  const high = Math.min(n, x + unknown);
  if (high === x) return rateBounds(x, n, alpha, prior);
  return { lower: rateBounds(x, n, alpha, prior).lower, upper: rateBounds(high, n, alpha, prior).upper };
}

/** One arm's counts for a comparison: x events in n trials, `unknown` more trials whose outcome is not seen yet. */
export interface ArmCounts {
  x: number;
  n: number;
  unknown?: number;
}

/**
 * Bounds for green's rate minus blue's from one-sided bounds per arm at alpha / 2 each: the lower is green's lower
 * minus blue's upper, and it is above the true difference only if green's lower is above green's rate or blue's
 * upper below blue's, at most alpha / 2 + alpha / 2 (Bonferroni); the upper likewise from green's upper and blue's
 * lower. So each bound holds with 1 - alpha, as a single rate's do: a breach (the lower above the margin) is a
 * false rollback in at most alpha. Conservative, but valid on two streams whose split changes at every stage,
 * since each arm's bound is about that arm's requests alone. An arm's `unknown` trials count among its n, as
 * events for its upper bound and not for its lower (censoredBounds).
 */
export function differenceBounds(green: ArmCounts, blue: ArmCounts, alpha: number, prior: Prior): Bounds {
  const g = armBounds(green, alpha / 2, prior);
  const b = armBounds(blue, alpha / 2, prior);
  return { lower: g.lower - b.upper, upper: g.upper - b.lower };
}

function armBounds(arm: ArmCounts, alpha: number, prior: Prior): Bounds {
  const unknown = arm.unknown ?? 0;
  return censoredBounds(arm.x, unknown, arm.n + unknown, alpha, prior);
}

function logLikelihood(x: number, n: number, p: number): number {
  const hits = x === 0 ? 0 : x * Math.log(p);
  const misses = n - x === 0 ? 0 : (n - x) * Math.log1p(-p);
  return hits + misses;
}

const STEPS = 200;

/**
 * Where `rejects` (log M - log(1/alpha)) turns from negative to 0 or more, going down from `start` (the estimate, in
 * log scale, where it is negative): the rejected end of a bracket narrowed by the Illinois method (regula falsi
 * that halves a stale end's value) to under 1e-12 of `scale` in p. The rejected end is returned, so the search
 * never moves a bound inwards.
 */
function edge(start: number, rejects: (u: number) => number, scale: number): number {
  let inside = start;
  let fInside = rejects(inside);
  // Step down, doubling, to a rejected point.
  let width = 1;
  let outside = start - width;
  let fOutside = rejects(outside);
  while (fOutside < 0 && width < 1e4) {
    inside = outside;
    fInside = fOutside;
    width *= 2;
    outside = start - width;
    fOutside = rejects(outside);
  }
  if (fOutside < 0) return -Infinity;
  let kept: 'inside' | 'outside' | undefined;
  for (let i = 0; i < STEPS && Math.exp(inside) - Math.exp(outside) > 1e-12 * scale; i++) {
    let next = Number.isFinite(fOutside) ? inside - (fInside * (inside - outside)) / (fInside - fOutside) : (inside + outside) / 2;
    if (!(next > outside && next < inside)) next = (inside + outside) / 2;
    const f = rejects(next);
    if (f >= 0) {
      outside = next;
      fOutside = f;
      if (kept === 'inside') fInside /= 2;
      kept = 'inside';
    } else {
      inside = next;
      fInside = f;
      if (kept === 'outside') fOutside /= 2;
      kept = 'outside';
    }
  }
  return outside;
}
