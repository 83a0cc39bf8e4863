// What a plan will do, computed before any traffic: the schedule, requests per arm, and an estimated cost.
import type { ArmName, Plan } from './plan.js';

export interface StageEstimate {
  index: number;
  name?: string;
  durationMs: number;
  greenWeight: number;
  requests: Record<ArmName, number>;
}

export interface PlanSummary {
  name: string;
  stages: StageEstimate[];
  totalDurationMs: number;
  requests: Record<ArmName, number>;
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
    return {
      index,
      name: stage.name,
      durationMs: stage.duration,
      greenWeight: stage.green_weight,
      requests: { blue: Math.round(total * (1 - stage.green_weight)), green: Math.round(total * stage.green_weight) },
    };
  });
  const requests = {
    blue: stages.reduce((sum, s) => sum + s.requests.blue, 0),
    green: stages.reduce((sum, s) => sum + s.requests.green, 0),
  };
  const assumedTokens = { prompt: ASSUMED_PROMPT_TOKENS, completion: Math.round(plan.traffic.max_tokens / 2) };
  const cost = (arm: ArmName): number | null => {
    const price = plan.arms[arm].price;
    if (!price) return null;
    const perRequest = (assumedTokens.prompt * price.input_per_mtok + assumedTokens.completion * price.output_per_mtok) / 1e6;
    return requests[arm] * perRequest;
  };
  return {
    name: plan.name,
    stages,
    totalDurationMs: stages.reduce((sum, s) => sum + s.durationMs, 0),
    requests,
    assumedTokens,
    costUsd: { blue: cost('blue'), green: cost('green') },
  };
}
