// What the comparisons with blue (and the built-in guard) judge a stage's green against. Chosen from the plan
// (each stage's weight and the blue requests it plans), never from the figures, so each stage runs one test.
//
// The stage's own blue, served at the same moments, while the plan sends it enough: an upstream burst or drift
// that hits both arms then moves both sides alike (session 10: judged against blue over the rollout so far, a
// shared 20 s burst rolled back every healthy green). A stage that plans fewer than SMALL_BLUE_REQUESTS blue
// requests (100% green, or just short of it at a low rate) adds the stages before it, latest first, until their
// planned blue reaches that: blue of the nearest moments there is enough of. Over the whole rollout so far (as
// up to session 10 at 100% green), a blue whose error rate drifted from 1% to 7% during the rollout made the guard
// roll back 17.5% of healthy greens at 100%; against the stage before, none (docs/benchmarks.md section 6).
import { sumArmCounts, type ArmStats } from '../metrics/types.js';
import type { Plan } from '../plan/plan.js';

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
 * 100% green and every stage so far at 100%.
 */
export function plannedBlueRequests(plan: Pick<Plan, 'traffic' | 'stages' | 'proxy'>): number[] | undefined {
  if (plan.proxy?.admin) return undefined;
  return plan.stages.map((stage) => plan.traffic.rate * (stage.duration / 1000) * (1 - stage.green_weight));
}

export function blueReference(history: BlueHistory): ArmStats {
  const { stageIndex, blue, plannedBlue } = history;
  const stages = history.blueStages ?? [blue];
  const own = plannedBlue?.[stageIndex];
  const weight = history.greenWeight ?? 0;
  if (weight < 1 && (own === undefined || own >= SMALL_BLUE_REQUESTS)) return blue;
  if (plannedBlue === undefined) return sumArmCounts(stages);
  let from = stages.length;
  let planned = 0;
  while (from > 0 && planned < SMALL_BLUE_REQUESTS) planned += plannedBlue[--from] ?? 0;
  return from === stages.length - 1 ? blue : sumArmCounts(stages.slice(from));
}
