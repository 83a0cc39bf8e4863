// How likely each stage is to judge nothing of green, from the plan alone: the requests it expects per arm and how
// much they vary run to run. A stage judges green once green answered analysis.min_requests, and, when its only
// rate rules compare green with blue, once blue's reference answered as many too. A count expected just above the
// floor falls under it in some runs (a random split, users sticky on one arm), so such a plan flips between
// promoted (exit 0) and rolled back with nothing judged (exit 10) from run to run: validate says so beforehand.
//
// The spread: of n requests each goes to green with chance w, but requests sharing a sticky key (a user) go together,
// as a cluster. The count's variance is then w(1 - w) x sum over keys of m_k^2 (m_k: the key's requests), and with
// each request's key drawn with chances q_k, E[sum m_k^2] = n + n(n - 1) x sum q_k^2: the binomial variance times
// the design effect 1 + (n - 1) x sum q_k^2 (Kish, "Survey Sampling", 1965, for clusters assigned whole; sum q_k^2 is
// the chance two requests share a key). A sticky user green at one weight stays green at a higher one, so the stages'
// counts are not independent: the chance every stage judges nothing is shared-users.ts's.
import { needsGuard } from '../analysis/budget.js';
import { judgesAgainstRollout, plannedBlueRequests } from '../analysis/reference.js';
import { sampledShareOf } from '../traffic/mix.js';
import type { Plan } from './plan.js';
import { allUnjudgedOdds, type SharedUsers } from './shared-users.js';
import { greenShare, rateBasis } from './summary.js';

/** A count's expectation and standard deviation over runs. */
export interface CountEstimate {
  mean: number;
  sd: number;
}

export interface StageOdds {
  /** 0-based. */
  index: number;
  /** Green's requests, and the mirror copies a live rollout's proxies send it. */
  green: CountEstimate;
  /** Chance green answers fewer than min_requests. */
  greenShort: number;
  /** Blue's requests the comparisons judge green against (the stage's own, or the rollout's so far); absent without comparisons. */
  blue?: CountEstimate & { span: 'stage' | 'rollout' };
  /** Chance blue's reference is under min_requests (0 without comparisons). */
  blueShort: number;
  /** Every rate rule compares green with blue: a stage whose blue reference is short judges nothing either. */
  needsBlue: boolean;
  /** Chance the stage judges nothing: green short, or blue short when it needs blue. */
  unjudged: number;
  /** How its counts move with the sticky users' luck, shared with the other stages (shared-users.ts). */
  shared: SharedUsers;
  /** analysis.min_requests. */
  floor: number;
}

/** Below this chance a stage is taken to judge: about 3 standard deviations of its count above the floor. */
export const NEGLIGIBLE_ODDS = 0.00135;

/**
 * Each stage's odds of judging nothing, at the plan's rate; undefined when the rate is unknown (a live plan without a
 * traffic block) or min_requests is 0 (one request judges). `sampledKeyCollision`: the chance two lines of the sampled
 * traffic file share a sticky key (checkSampledFile reads it; 0 when the file is not read).
 */
export function judgingOdds(plan: Plan, sampledKeyCollision = 0): StageOdds[] | undefined {
  const basis = rateBasis(plan);
  const floor = plan.analysis.min_requests;
  if (basis === 'unknown' || floor <= 0) return undefined;
  // Generated traffic sends rate x duration requests exactly (arrivals on a schedule) and splits them at random; the
  // application's arrive at random too (Poisson, taken at its declared rate).
  const poisson = basis === 'application';
  const keyed = keyCollisions(plan, poisson ? 0 : sampledKeyCollision);
  const rate = plan.traffic.rate;
  const plannedBlue = plannedBlueRequests(plan);
  const compares = comparesWithBlue(plan);
  const absolute = judgesGreenAlone(plan);
  const blueSoFar: CountEstimate[] = [];
  return plan.stages.map((stage, index) => {
    const total = (rate * stage.duration) / 1000;
    const green = splitCount(total, greenShare(plan, stage), keyed, poisson);
    const blueHere = splitCount(total, 1 - stage.green_weight, keyed, poisson);
    blueSoFar.push(blueHere);
    const greenShort = shortOdds(green, floor);
    // Green's count moves with the share of users the split put on green, less the mirror copies of blue's (at random).
    const mirror = (greenShare(plan, stage) - stage.green_weight) / (1 - stage.green_weight || 1);
    const shared: SharedUsers = { weight: stage.green_weight, keyCollision: keyed, greenShift: total * (1 - mirror), blueShift: 0 };
    const odds: StageOdds = { index, green, greenShort, blueShort: 0, needsBlue: compares && !absolute, unjudged: greenShort, shared, floor };
    if (!compares) return odds;
    const span = judgesAgainstRollout(index, stage.green_weight, plannedBlue) ? 'rollout' : 'stage';
    const blue = span === 'rollout' ? sumCounts(blueSoFar) : blueHere;
    // Blue over the rollout so far sums stages at other weights: taken as not moving with this one's users.
    if (span === 'stage') shared.blueShift = -total;
    odds.blue = { ...blue, span };
    odds.blueShort = shortOdds(blue, floor);
    // A rule judging green alone (an error rate, a latency limit) judges it whatever blue answered.
    if (odds.needsBlue) odds.unjudged = greenShort + (1 - greenShort) * odds.blueShort;
    return odds;
  });
}

/** Chance every stage judges nothing (the rollout's nothing_judged): stages sharing sticky users are short together. */
export function nothingJudgedOdds(stages: readonly StageOdds[]): number {
  const floor = stages[0]?.floor ?? 0;
  return allUnjudgedOdds(stages, floor, shortOdds);
}

/** Whether a rule compares green with blue: compare_to_blue's, or the built-in guard (no error-rate rule). */
export function comparesWithBlue(plan: Plan): boolean {
  const compare = plan.analysis.compare_to_blue;
  return needsGuard(plan.analysis) || Object.values(compare ?? {}).some((value) => value !== undefined);
}

/** Whether a rate rule judges green on its own figures (ttft_p95 only when requests stream). */
function judgesGreenAlone(plan: Plan): boolean {
  const t = plan.analysis.thresholds;
  const streams = plan.traffic.stream > 0 || plan.proxy?.admin !== undefined;
  return [t.error_rate, t.latency_p95, t.latency_p99, t.quality_fail_rate, streams ? t.ttft_p95 : undefined].some((limit) => limit !== undefined);
}

/**
 * The chance two generated requests carry the same sticky key (sum of each key's share squared): synthetic.users
 * spreads the synthetic share over that many users, and the sampled share carries its lines' own keys, each user on
 * one arm for the whole stage, so green's count varies with how many users the split put there. The sampled term
 * takes the file's lines as interleaved; replayed in file order, a file grouped by user clusters more within a stage.
 */
function keyCollisions(plan: Plan, sampledKeyCollision: number): number {
  const sampledShare = sampledShareOf(plan.traffic);
  const users = plan.traffic.synthetic?.users;
  const synthetic = users === undefined || users <= 0 ? 0 : ((1 - sampledShare) * (1 - sampledShare)) / users;
  return synthetic + sampledShare * sampledShare * sampledKeyCollision;
}

/**
 * An arm's count of `total` requests at `share`: binomial over a fixed total (Poisson over a random one), widened by
 * sticky keys (a request sharing another's key goes where it went) by the design effect 1 + (total - 1) x
 * keyCollision (see the top of this file).
 */
export function splitCount(total: number, share: number, keyCollision: number, poisson: boolean): CountEstimate {
  if (share <= 0 || total <= 0) return { mean: 0, sd: 0 };
  const sticky = 1 + Math.max(0, total - 1) * keyCollision;
  const variance = total * share * (1 - share) * sticky + (poisson ? total * share * share : 0);
  return { mean: total * share, sd: Math.sqrt(variance) };
}

function sumCounts(counts: readonly CountEstimate[]): CountEstimate {
  const mean = counts.reduce((sum, count) => sum + count.mean, 0);
  const variance = counts.reduce((sum, count) => sum + count.sd * count.sd, 0);
  return { mean, sd: Math.sqrt(variance) };
}

/** Chance a count is under `floor` (normal approximation, continuity-corrected): 1 when it cannot vary and is under. */
export function shortOdds(count: CountEstimate, floor: number): number {
  if (count.sd === 0) return count.mean < floor ? 1 : 0;
  return normalCdf((floor - 0.5 - count.mean) / count.sd);
}

/** The standard normal distribution function (Abramowitz and Stegun 7.1.26, within 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const tail = 0.5 * poly * Math.exp(-x * x);
  return z >= 0 ? 1 - tail : tail;
}
