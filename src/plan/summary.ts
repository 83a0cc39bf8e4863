// What a plan will do, computed before any traffic: the schedule, requests per arm, and an estimated cost.
import { formatCount } from '../core/format.js';
import type { ArmName, Plan } from './plan.js';

export interface StageEstimate {
  index: number;
  name?: string;
  durationMs: number;
  greenWeight: number;
  requests: Record<ArmName, number>;
  /** Copies of blue-routed requests a live rollout's proxies also send to green (`mirror`), unseen by users. */
  mirrored: number;
}

export interface PlanSummary {
  name: string;
  stages: StageEstimate[];
  totalDurationMs: number;
  requests: Record<ArmName, number>;
  /** Mirror copies sent to green over the whole rollout (they cost green's tokens like any request). */
  mirrored: number;
  /** Tokens per request the cost estimate assumes. */
  assumedTokens: { prompt: number; completion: number };
  /** Estimated cost per arm in USD; null when the arm has no price. */
  costUsd: Record<ArmName, number | null>;
}

/** Average prompt tokens assumed for the estimate: a short chat turn plus a system prompt. */
const ASSUMED_PROMPT_TOKENS = 200;

export function summarisePlan(plan: Plan): PlanSummary {
  const rate = plan.traffic.rate;
  const stages = plan.stages.map((stage, index) => {
    const total = (rate * stage.duration) / 1000;
    const blue = Math.round(total * (1 - stage.green_weight));
    // Only the proxies mirror (a live rollout); generated traffic has no mirror.
    const mirror = plan.proxy?.admin ? (stage.mirror ?? 0) : 0;
    return {
      index,
      name: stage.name,
      durationMs: stage.duration,
      greenWeight: stage.green_weight,
      requests: { blue, green: Math.round(total * stage.green_weight) },
      mirrored: Math.round(blue * mirror),
    };
  });
  const requests = {
    blue: stages.reduce((sum, s) => sum + s.requests.blue, 0),
    green: stages.reduce((sum, s) => sum + s.requests.green, 0),
  };
  const mirrored = stages.reduce((sum, s) => sum + s.mirrored, 0);
  const assumedTokens = { prompt: ASSUMED_PROMPT_TOKENS, completion: Math.round(plan.traffic.max_tokens / 2) };
  const cost = (arm: ArmName): number | null => {
    const price = plan.arms[arm].price;
    if (!price) return null;
    const perRequest = (assumedTokens.prompt * price.input_per_mtok + assumedTokens.completion * price.output_per_mtok) / 1e6;
    return (requests[arm] + (arm === 'green' ? mirrored : 0)) * perRequest;
  };
  return {
    name: plan.name,
    stages,
    totalDurationMs: stages.reduce((sum, s) => sum + s.durationMs, 0),
    requests,
    mirrored,
    assumedTokens,
    costUsd: { blue: cost('blue'), green: cost('green') },
  };
}

/** " +150 mirrored" after a stage's request counts, or "" when nothing is mirrored. */
export function mirroredText(count: number): string {
  return count > 0 ? ` +${formatCount(count)} mirrored` : '';
}

/** ", and 150 mirror copies to green" after the rollout's request totals, or "". */
export function mirroredTotalText(summary: PlanSummary): string {
  return summary.mirrored > 0 ? `, and ${formatCount(summary.mirrored)} mirror copies to green` : '';
}
