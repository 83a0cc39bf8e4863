// Assembles the immutable snapshot (and state.json) from the engine's parts.
import type { Breach, CheckResult } from '../analysis/types.js';
import type { StageStats, WindowStats } from '../metrics/types.js';
import type { ArmName, Plan } from '../plan/plan.js';
import type { Phase, RolloutEvent, RolloutSnapshot } from './types.js';

export interface SnapshotParts {
  plan: Plan;
  pid: number;
  phase: Phase;
  startedAt: number;
  now: number;
  endedAt?: number;
  stageIndex: number;
  stageElapsedMs: number;
  greenWeight: number;
  stages: StageStats[];
  checks: CheckResult[];
  breach?: Breach;
  reason?: string;
  exitCode?: number;
  window: Record<ArmName, WindowStats>;
  trend: readonly number[];
  recentEvents: readonly RolloutEvent[];
}

/** What a snapshot says about its plan: enough for `status` and reports without the plan file. */
export function snapshotPlan(plan: Plan): RolloutSnapshot['plan'] {
  return {
    name: plan.name,
    file: plan.source.file,
    hash: plan.source.hash,
    blueModel: plan.arms.blue.model,
    greenModel: plan.arms.green.model,
    stages: plan.stages.map((s) => ({ name: s.name, durationMs: s.duration, greenWeight: s.green_weight })),
  };
}

export function buildSnapshot(parts: SnapshotParts): RolloutSnapshot {
  const { plan } = parts;
  return {
    version: 1,
    plan: snapshotPlan(plan),
    pid: parts.pid,
    phase: parts.phase,
    startedAt: parts.startedAt,
    updatedAt: parts.now,
    endedAt: parts.endedAt,
    stageIndex: parts.stageIndex,
    stageElapsedMs: parts.stageElapsedMs,
    greenWeight: parts.greenWeight,
    stages: parts.stages,
    checks: [...parts.checks],
    breach: parts.breach,
    reason: parts.reason,
    exitCode: parts.exitCode,
    window: parts.window,
    greenErrorTrend: [...parts.trend],
    recentEvents: [...parts.recentEvents],
  };
}
