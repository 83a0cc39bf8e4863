// Hand-made snapshots for the dashboard tests: one per phase, with figures that exercise every column.
import type { CheckResult } from '../../../src/analysis/types.js';
import type { Phase, RolloutEvent, RolloutSnapshot } from '../../../src/engine/types.js';
import { emptyArmStats, type ArmStats, type StageStats, type StageVerdict } from '../../../src/metrics/types.js';

export const START = Date.UTC(2026, 2, 14, 9, 30, 0);
export const WEIGHTS = [0.1, 0.25, 0.5, 0.75, 1];
const STAGE_MS = 120_000;

export function arm(requests: number, failures: number, p95: number | null, costUsd: number, rateLimit?: ArmStats['rateLimit']): ArmStats {
  return {
    ...emptyArmStats(),
    requests,
    successes: requests - failures,
    failures,
    latency: p95 === null ? null : { p50: p95 / 2, p95, p99: p95 * 1.2, max: p95 * 1.5, mean: p95 / 2, count: requests },
    costUsd,
    ...(rateLimit ? { rateLimit } : {}),
  };
}

function stage(index: number, verdict: StageVerdict, blue: ArmStats, green: ArmStats): StageStats {
  return { index, greenWeight: WEIGHTS[index] ?? 1, durationMs: STAGE_MS, verdict, arms: { blue, green } };
}

const idle = () => stage(0, 'pending', emptyArmStats(), emptyArmStats());

export function checks(overrides: Partial<Record<CheckResult['rule'], Partial<CheckResult>>> = {}): CheckResult[] {
  const base: CheckResult[] = [
    { rule: 'error_rate', status: 'ok', figure: 0.012, limit: 0.05, unit: 'ratio', sample: 310, proximity: 0.24 },
    { rule: 'consecutive_errors', status: 'ok', figure: 1, limit: 5, unit: 'count', sample: 310, proximity: 0.2 },
    { rule: 'latency_p95', status: 'ok', figure: 2600, limit: 3000, unit: 'ms', sample: 310, proximity: 0.8667 },
    {
      rule: 'compare_to_blue.max_error_rate_increase',
      status: 'ok',
      figure: 0.004,
      limit: 0.03,
      unit: 'ratio',
      sample: 310,
      blueSample: 930,
      proximity: 0.1333,
    },
    { rule: 'quality_fail_rate', status: 'waiting', figure: null, limit: 0.05, unit: 'ratio', sample: 4, proximity: null },
  ];
  return base.map((check) => ({ ...check, ...overrides[check.rule] }));
}

function event(offsetMs: number, type: RolloutEvent['type'], message: string, stageIndex = 0): RolloutEvent {
  return { at: START + offsetMs, type, stage: stageIndex, message };
}

const EVENTS: RolloutEvent[] = [
  event(0, 'rollout_started', 'rollout "gpt-4o-to-gpt-4.1" started: gpt-4o (blue) -> gpt-4.1 (green), 5 stages'),
  event(5, 'stage_started', 'stage 1/5 started: 10% green for 2m'),
  event(120_005, 'stage_passed', 'stage 1/5 passed at 10% green'),
  event(120_010, 'stage_started', 'stage 2/5 started: 25% green for 2m', 1),
  event(240_010, 'stage_passed', 'stage 2/5 passed at 25% green', 1),
  event(240_020, 'stage_started', 'stage 3/5 started: 50% green for 2m', 2),
];

/** Three stages in: stage 3 running at 50%, 50 s of its 2 minutes gone. */
export function progressingSnapshot(): RolloutSnapshot {
  const now = START + 290_000;
  const limits = { remainingRequests: 9_779, remainingTokens: 1_977_066 };
  return {
    version: 1,
    plan: {
      name: 'gpt-4o-to-gpt-4.1',
      file: '/plans/upgrade.yaml',
      hash: 'abc',
      blueModel: 'gpt-4o',
      greenModel: 'gpt-4.1',
      stages: WEIGHTS.map((greenWeight) => ({ durationMs: STAGE_MS, greenWeight })),
    },
    pid: 4242,
    phase: 'progressing',
    startedAt: START,
    updatedAt: now,
    stageIndex: 2,
    stageElapsedMs: 50_000,
    greenWeight: 0.5,
    stages: [
      stage(0, 'passed', arm(2160, 3, 845, 0.1715), arm(240, 1, 790, 0.0123)),
      stage(1, 'passed', arm(1800, 2, 1464.3, 0.1432), arm(600, 4, 1210, 0.0418)),
      stage(2, 'running', arm(930, 1, 1390, 0.0752, limits), arm(310, 4, 2600, 0.0139, { remainingRequests: 9_963, remainingTokens: 1_996_504 })),
      { ...idle(), index: 3, greenWeight: 0.75 },
      { ...idle(), index: 4, greenWeight: 1 },
    ],
    checks: checks(),
    window: {
      blue: { seconds: 10, requestsPerSecond: 10, errorRate: 0.001, latencyP95: 1390 },
      green: { seconds: 10, requestsPerSecond: 10, errorRate: 0.012, latencyP95: 2600 },
    },
    greenErrorTrend: [0, 0, 0.004, 0.01, 0.012, 0.02, 0.012, 0.03, 0.012, 0.06, 0.012],
    recentEvents: EVENTS,
  };
}

function ended(phase: Phase, exitCode: number, reason: string, extra: RolloutEvent[], verdict: StageVerdict, greenWeight: number): RolloutSnapshot {
  const base = progressingSnapshot();
  const endedAt = START + 292_000;
  return {
    ...base,
    phase,
    endedAt,
    updatedAt: endedAt,
    exitCode,
    reason,
    greenWeight,
    stages: base.stages.map((s) => (s.verdict === 'running' ? { ...s, verdict } : s.verdict === 'pending' ? { ...s, verdict: 'skipped' } : s)),
    recentEvents: [...base.recentEvents, ...extra],
  };
}

export function pausedSnapshot(): RolloutSnapshot {
  const base = progressingSnapshot();
  return {
    ...base,
    phase: 'paused',
    recentEvents: [
      ...base.recentEvents,
      event(280_000, 'paused', 'paused by alice@ops (dashboard): traffic goes on at 50% green, the stage clock is stopped', 2),
    ],
  };
}

export function promotedSnapshot(): RolloutSnapshot {
  const base = ended(
    'promoted',
    0,
    'promoted to 100% green by alice@ops (dashboard)',
    [
      event(291_000, 'promote_requested', 'promotion to 100% requested by alice@ops (dashboard)', 2),
      event(292_000, 'finished', 'promoted (exit 0): promoted to 100% green by alice@ops (dashboard)', 2),
    ],
    'skipped',
    1,
  );
  return base;
}

export function rolledBackSnapshot(): RolloutSnapshot {
  const reason = 'green error_rate 31.2% > 5.0% over 48 requests in stage 3';
  const base = ended(
    'rolled_back',
    10,
    reason,
    [
      event(290_500, 'breach', reason, 2),
      event(290_501, 'rolled_back', 'rolling back to blue on error_rate', 2),
      event(292_000, 'finished', `rolled back (exit 10): ${reason}`, 2),
    ],
    'failed',
    0,
  );
  return {
    ...base,
    checks: checks({ error_rate: { status: 'breach', figure: 0.312, proximity: 6.24, sample: 48 } }),
    breach: { rule: 'error_rate', figure: 0.312, limit: 0.05, unit: 'ratio', sample: 48, message: reason },
  };
}

export function abortedSnapshot(): RolloutSnapshot {
  return ended(
    'aborted',
    4,
    'aborted by alice@ops (dashboard); traffic is back on blue',
    [
      event(291_000, 'abort_requested', 'abort requested by alice@ops (dashboard)', 2),
      event(292_000, 'finished', 'aborted (exit 4): aborted by alice@ops (dashboard); traffic is back on blue', 2),
    ],
    'aborted',
    0,
  );
}

export function interruptedSnapshot(): RolloutSnapshot {
  return ended(
    'interrupted',
    130,
    'interrupted by SIGINT; rolled back to blue',
    [
      event(291_000, 'interrupted', 'interrupted by SIGINT: rolling back to blue', 2),
      event(292_000, 'finished', 'interrupted (exit 130): interrupted by SIGINT; rolled back to blue', 2),
    ],
    'aborted',
    0,
  );
}

/** Before the first stage: nothing measured, no checks yet. */
export function startingSnapshot(): RolloutSnapshot {
  const base = progressingSnapshot();
  return {
    ...base,
    phase: 'starting',
    startedAt: 0,
    updatedAt: START,
    stageIndex: 0,
    stageElapsedMs: 0,
    greenWeight: 0,
    stages: WEIGHTS.map((greenWeight, index) => ({ ...idle(), index, greenWeight })),
    checks: [],
    greenErrorTrend: [],
    recentEvents: [],
  };
}

export const NOW = START + 290_000;
