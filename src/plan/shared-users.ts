// The chance every stage judges nothing when stages share sticky users. A user's sticky point U is fixed for the
// rollout (src/split/splitter.ts), so the users on green at weight w are those with U < w, still there at any higher
// weight: one shortfall of green users runs through every stage. Let F(w) be the share of requests whose key has
// U < w (each key k sending a share q_k, its point uniform) and D(w) = F(w) - w how far the split's luck put green
// from its weight. D has mean 0 and Cov(D(u), D(w)) = c x u(1 - w) for u <= w, c = sum q_k^2: the covariance of a
// weighted uniform empirical process, a Brownian bridge scaled by c (Shorack and Wellner, "Empirical Processes with
// Applications to Statistics", 1986, section 3.1: Cov(U(s), U(t)) = s ^ t - st). Given D the stages' counts are
// independent, each a binomial (or Poisson) split around its shifted mean, so
//   P(every stage unjudged) = E_D[ prod_s P(stage s unjudged | D(w_s)) ]
// (the stages' design-effect variance, Kish 1965, is the conditional variance plus Var(shift x D)). D taken as
// Gaussian is a Markov chain over increasing weights (the bridge's transition: mean D(u)(1 - w)/(1 - u), variance
// c (w - u)(1 - w)/(1 - u)), so the expectation is a forward recursion over a grid of D at each distinct weight.

/** How a stage's counts move with D at its weight; judging-odds.ts fills it in. */
export interface SharedUsers {
  /** The stage's green_weight. */
  weight: number;
  /** c: the chance two requests share a sticky key (0: no sticky keys, the stages independent). */
  keyCollision: number;
  /** Requests the stage's green count gains per unit of D (its requests, less the mirror's share of blue's). */
  greenShift: number;
  /** The same for blue's reference: minus the stage's requests for its own blue, 0 for blue over the rollout so far. */
  blueShift: number;
}

/** One stage's figures the recursion needs: its unconditional counts and their shift with D. */
export interface StageCounts {
  green: { mean: number; sd: number };
  blue?: { mean: number; sd: number };
  needsBlue: boolean;
  shared: SharedUsers;
}

/** Chance a count (normal, mean and sd) is under floor; the caller's shortOdds, passed in to keep one copy. */
export type ShortOdds = (count: { mean: number; sd: number }, floor: number) => number;

/** Grid points over D at one weight: +-6 standard deviations in steps of 0.05. */
const GRID_HALF_WIDTH = 6;
const GRID_POINTS = 241;

/**
 * P(every stage unjudged), the stages sharing sticky users through D (top of this file). Stages at weight 0 or 1,
 * or without sticky keys, do not move with D and enter as their own chance.
 */
export function allUnjudgedOdds(stages: readonly StageCounts[], floor: number, shortOdds: ShortOdds): number {
  const byWeight = new Map<number, StageCounts[]>();
  let independent = 1;
  for (const stage of stages) {
    const { weight, keyCollision } = stage.shared;
    if (keyCollision > 0 && weight > 0 && weight < 1) byWeight.set(weight, [...(byWeight.get(weight) ?? []), stage]);
    else independent *= unjudgedGiven(stage, 0, 0, floor, shortOdds);
  }
  const weights = [...byWeight.keys()].sort((a, b) => a - b);
  if (weights.length === 0) return independent;
  const c = (stages.find((stage) => stage.shared.keyCollision > 0) as StageCounts).shared.keyCollision;
  // alpha: the probability mass at each grid point of D at the current weight, times every stage so far unjudged.
  let alpha: number[] = [];
  let grid: number[] = [];
  let previous = 0;
  for (const weight of weights) {
    const variance = c * weight * (1 - weight);
    const next = gridOver(Math.sqrt(variance));
    const mass =
      previous === 0
        ? normalised(next.map((x) => -(x * x) / (2 * variance)))
        : carried(alpha, grid, next, (1 - weight) / (1 - previous), (c * (weight - previous) * (1 - weight)) / (1 - previous));
    const here = byWeight.get(weight) as StageCounts[];
    alpha = mass.map((m, i) => m * here.reduce((odds, stage) => odds * unjudgedGiven(stage, next[i] as number, variance, floor, shortOdds), 1));
    grid = next;
    previous = weight;
  }
  return independent * alpha.reduce((sum, m) => sum + m, 0);
}

/** A stage's chance of judging nothing given D = shift at its weight (variance: D's there, 0 when fixed). */
function unjudgedGiven(stage: StageCounts, shift: number, variance: number, floor: number, shortOdds: ShortOdds): number {
  const given = (count: { mean: number; sd: number }, by: number) => ({
    mean: count.mean + by * shift,
    // What is left of the count's variance once D is known (never below 0: rounding in a stage all of whose spread is D's).
    sd: Math.sqrt(Math.max(0, count.sd * count.sd - by * by * variance)),
  });
  const greenShort = shortOdds(given(stage.green, stage.shared.greenShift), floor);
  if (!stage.needsBlue || !stage.blue) return greenShort;
  const blueShort = shortOdds(given(stage.blue, stage.shared.blueShift), floor);
  return greenShort + (1 - greenShort) * blueShort;
}

function gridOver(sd: number): number[] {
  const step = (2 * GRID_HALF_WIDTH * sd) / (GRID_POINTS - 1);
  return Array.from({ length: GRID_POINTS }, (_, i) => -GRID_HALF_WIDTH * sd + i * step);
}

/** exp of log-weights, scaled to sum 1 (the largest subtracted first). */
function normalised(logWeights: number[]): number[] {
  const top = Math.max(...logWeights);
  const weights = logWeights.map((log) => Math.exp(log - top));
  const sum = weights.reduce((total, w) => total + w, 0);
  return weights.map((w) => w / sum);
}

/**
 * Mass on `to` after the bridge's step from `from`: each point's mass spread by the Gaussian transition, over the
 * points within 8 of its standard deviations (a row's kernel scaled to sum 1, the nearest point alone when narrower).
 */
function carried(alpha: readonly number[], from: readonly number[], to: readonly number[], slope: number, variance: number): number[] {
  const out = new Array<number>(to.length).fill(0);
  const reach = 8 * Math.sqrt(variance);
  const start = to[0] as number;
  const step = ((to[to.length - 1] as number) - start) / (to.length - 1);
  const last = to.length - 1;
  from.forEach((x, i) => {
    const m = alpha[i] as number;
    if (m === 0) return;
    const mean = slope * x;
    // The grid is even: the points within reach are an index range.
    const lo = Math.max(0, Math.ceil((mean - reach - start) / step));
    const hi = Math.min(last, Math.floor((mean + reach - start) / step));
    let sum = 0;
    for (let j = lo; j <= hi; j++) {
      const d = (to[j] as number) - mean;
      sum += Math.exp(-(d * d) / (2 * variance));
    }
    if (sum === 0) {
      const nearest = Math.min(last, Math.max(0, Math.round((mean - start) / step)));
      out[nearest] = (out[nearest] as number) + m;
      return;
    }
    for (let j = lo; j <= hi; j++) {
      const d = (to[j] as number) - mean;
      out[j] = (out[j] as number) + (m * Math.exp(-(d * d) / (2 * variance))) / sum;
    }
  });
  return out;
}
