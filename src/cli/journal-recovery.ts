// A rollout that moved traffic and then lost its state.json (moved aside, deleted): only its journal says where it
// was. Its record is rebuilt from the journal and the plan the operator names (the journal holds no plan), so the
// usual recovery (restoreBlue) can put its traffic back on blue and mark it ended.
import type { RolloutSnapshot } from '../engine/types.js';
import { snapshotPlan } from '../engine/snapshot.js';
import type { Plan } from '../plan/plan.js';
import { emptyArmStats, type WindowStats } from '../metrics/types.js';
import type { LostRecord } from '../state/index.js';
import { withJournalProgress } from '../state/reconcile.js';
import { CliError, EXIT } from '../core/exit.js';
import { otherPlanThan } from './dead-run-plan.js';

/** The lost rollout's record, as the journal says it went, on `plan`; refused when plan is another rollout's. */
export function rebuiltRecord(lost: LostRecord, plan: Plan): RolloutSnapshot {
  const models = lost.blueModel === undefined || lost.greenModel === undefined ? undefined : ([lost.blueModel, lost.greenModel] as const);
  const other = otherPlanThan(plan, { name: lost.plan, ...(models && { models }) }, 'whose record is lost');
  if (other !== undefined) throw new CliError(`${plan.source.file} ${other}; pass that rollout's plan with --plan`, EXIT.usage);
  const started: RolloutSnapshot = {
    version: 1,
    plan: snapshotPlan(plan),
    // The pid its lock names (0 when the lock is gone too): recovery only says it, it signals nothing by it.
    pid: lost.pid ?? 0,
    phase: 'progressing',
    startedAt: lost.startedAt,
    updatedAt: lost.startedAt,
    stageIndex: 0,
    stageElapsedMs: 0,
    greenWeight: 0,
    stages: plan.stages.map((stage, index) => ({
      index,
      ...(stage.name !== undefined && { name: stage.name }),
      greenWeight: stage.green_weight,
      durationMs: stage.duration,
      verdict: 'pending' as const,
      arms: { blue: emptyArmStats(), green: emptyArmStats() },
    })),
    checks: [],
    window: { blue: noWindow(), green: noWindow() },
    greenErrorTrend: [],
    recentEvents: [],
  };
  // Its stage and weight are the journal's latest (withJournalProgress reads every line after updatedAt).
  return withJournalProgress({ ...started, updatedAt: lost.startedAt - 1 }, lost.events);
}

function noWindow(): WindowStats {
  return { seconds: 0, requestsPerSecond: 0, errorRate: 0, latencyP95: null };
}
