// What the comparisons with blue (and the built-in guard) judge a stage's green against. Chosen from the plan
// (each stage's weight and the blue requests it plans), never from the figures, so each stage runs one test.
//
// The stage's own blue, served at the same moments, while the plan sends it enough: an upstream burst or drift
// that hits both arms then moves both sides alike (session 10: judged against blue over the rollout so far, a
// shared 20 s burst rolled back every healthy green). A stage that plans fewer than SMALL_BLUE_REQUESTS blue
// requests (100% green, or just short of it at a low rate) judges against blue over the whole rollout so far,
// which assumes blue's rates have not moved since. Measured (docs/benchmarks-history.md, session 11): judging those
// stages against only the latest stages' blue (until 100 planned) spared a drifting blue's false rollbacks but
// caught a 3x quality regression at 100 req/s in 6.2% of rollouts instead of 68%.
import { sumArmCounts, type ArmStats } from '../metrics/types.js';
import type { Plan } from '../plan/plan.js';
import type { SentBefore } from './quantile.js';

/**
 * Fewer planned blue requests than this in a stage and its own blue is too small a reference: a rate's
 * interval over fewer than 100 requests spans several points at any rate (blue at 1% over 100 requests: up to
 * about 7% at the per-check confidence), more than the margins comparisons judge.
 */
export const SMALL_BLUE_REQUESTS = 100;

export interface BlueHistory {
  /** 0-based. */
  stageIndex: number;
  /** The stage's own blue. */
  blue: ArmStats;
  /** Blue's figures in every stage so far, this one last; without them, the stage's blue alone. */
  blueStages?: readonly ArmStats[];
  /** The stage's planned green weight; 0 when not given. */
  greenWeight?: number;
  /** Blue requests the plan sends in each stage (plannedBlueRequests); absent when the plan cannot say. */
  plannedBlue?: readonly number[];
}

/**
 * traffic.rate x duration x (1 - green_weight) per stage, when the rate is all the traffic judged: not for a
 * plan driving proxies (the application's own traffic has no planned rate), whose stages use their own blue below
 * 100% green and every stage's so far at 100%.
 */
export function plannedBlueRequests(plan: Pick<Plan, 'traffic' | 'stages' | 'proxy'>): number[] | undefined {
  if (plan.proxy?.admin) return undefined;
  return plan.stages.map((stage) => plan.traffic.rate * (stage.duration / 1000) * (1 - stage.green_weight));
}

/** Whether a stage's comparisons judge against blue over the rollout so far (else the stage's own blue). */
export function judgesAgainstRollout(stageIndex: number, greenWeight: number | undefined, plannedBlue: readonly number[] | undefined): boolean {
  const own = plannedBlue?.[stageIndex];
  return (greenWeight ?? 0) >= 1 || (own !== undefined && own < SMALL_BLUE_REQUESTS);
}

export function blueReference(history: BlueHistory): ArmStats {
  const { stageIndex, blue, plannedBlue } = history;
  if (!judgesAgainstRollout(stageIndex, history.greenWeight, plannedBlue)) return blue;
  return sumArmCounts(history.blueStages ?? [blue]);
}

/**
 * Blue's send times for the same reference as blueReference: the stage's own, or every stage's so far added up
 * (their requests in the order sent are the stages' one after another, so the sums at one moment are a prefix);
 * undefined when any of them is not known.
 */
export function blueSentReference(history: BlueHistory & { blueSent?: readonly (SentBefore | undefined)[] }): SentBefore | undefined {
  const { stageIndex, blueSent } = history;
  if (!blueSent) return undefined;
  if (!judgesAgainstRollout(stageIndex, history.greenWeight, history.plannedBlue)) return blueSent[stageIndex];
  const stages = blueSent.slice(0, stageIndex + 1);
  if (stages.length !== stageIndex + 1 || stages.some((stage) => stage === undefined)) return undefined;
  const known = stages as readonly SentBefore[];
  return {
    requests: known.reduce((sum, stage) => sum + stage.requests, 0),
    runningAgesMs: known.flatMap((stage) => stage.runningAgesMs),
    // Those stages give: ages of some of the running requests (a stage without them leaves its own at the lowest value).
    runningAgesAtMostMs: known.flatMap((stage) => stage.runningAgesAtMostMs ?? []),
    sentAtLeast: (ageMs) => known.reduce((sum, stage) => sum + stage.sentAtLeast(ageMs), 0),
  };
}
