// Assembles the immutable snapshot (and state.json) from the engine's parts.
import type { CheckResult } from '../analysis/types.js';
import { judgesAgainstRollout, plannedBlueRequests } from '../analysis/reference.js';
import type { Plan } from '../plan/plan.js';
import type { RolloutEvent, RolloutSnapshot } from './types.js';

/**
 * What the engine hands over for a snapshot: the snapshot's own fields, except that it passes the plan itself,
 * the clock's now and its live lists (copied here, so a snapshot never changes after it is taken).
 */
export type SnapshotParts = Omit<RolloutSnapshot, 'version' | 'plan' | 'updatedAt' | 'checks' | 'greenErrorTrend' | 'recentEvents'> & {
  plan: Plan;
  now: number;
  checks: readonly CheckResult[];
  trend: readonly number[];
  recentEvents: readonly RolloutEvent[];
};

/** What a snapshot says about its plan: enough for `status` and reports without the plan file. */
export function snapshotPlan(plan: Plan): RolloutSnapshot['plan'] {
  const planned = plannedBlueRequests(plan);
  return {
    name: plan.name,
    file: plan.source.file,
    hash: plan.source.hash,
    blueModel: plan.arms.blue.model,
    greenModel: plan.arms.green.model,
    stages: plan.stages.map((s, index) => ({
      name: s.name,
      durationMs: s.duration,
      greenWeight: s.green_weight,
      // Stage 1's "rollout so far" is its own blue: nothing pooled to say.
      ...(index > 0 && judgesAgainstRollout(index, s.green_weight, planned) && { blueSoFar: true as const }),
    })),
    minRequests: Math.max(1, plan.analysis.min_requests),
  };
}

export function buildSnapshot({ plan, now, checks, trend, recentEvents, ...copied }: SnapshotParts): RolloutSnapshot {
  return {
    version: 1,
    plan: snapshotPlan(plan),
    ...copied,
    updatedAt: now,
    checks: [...checks],
    greenErrorTrend: [...trend],
    recentEvents: [...recentEvents],
  };
}
