// Hand-built final snapshots (what state.json holds after a run) for the report tests: a promoted
// rollout and one rolled back at stage 3, with checks and breach produced by the real analysis.
import { evaluate } from '../../../src/analysis/evaluate.js';
import { plannedBlueRequests } from '../../../src/analysis/reference.js';
import type { RolloutSnapshot } from '../../../src/engine/types.js';
import { snapshotPlan } from '../../../src/engine/snapshot.js';
import type { ArmStats, Percentiles, StageStats, StageVerdict } from '../../../src/metrics/types.js';
import { emptyArmStats } from '../../../src/metrics/types.js';
import type { Plan } from '../../../src/plan/plan.js';
import { planFromYaml } from '../../helpers/plans.js';

export const START = Date.UTC(2025, 0, 15, 12, 0, 0);
export const STAGE_MS = 60_000;

export function planYaml(name = 'gpt-4o-to-gpt-4.1', extra = ''): string {
  return `
name: ${JSON.stringify(name)}
upstream: { api: openai, simulate: { models: {} } }
blue:  { model: gpt-4o,  price: { input_per_mtok: 2.50, output_per_mtok: 10.00 } }
green: { model: gpt-4.1, price: { input_per_mtok: 2.00, output_per_mtok: 8.00 } }
traffic: { rate: 20 }
stages:
  - { duration: 1m, green_weight: 0.10 }
  - { duration: 1m, green_weight: 0.25 }
  - { duration: 1m, green_weight: 0.50 }
  - { duration: 1m, green_weight: 0.75 }
  - { duration: 1m, green_weight: 1.00 }
analysis:
  interval: 2s
  min_requests: 20
  thresholds: { error_rate: 0.05, consecutive_errors: 5, latency_p95: 5s }
  compare_to_blue: { max_error_rate_increase: 0.02 }
${extra}`;
}

export function loadTestPlan(name?: string, extra?: string): Plan {
  return planFromYaml(planYaml(name, extra));
}

function percentiles(p95: number, count: number): Percentiles {
  return { p50: p95 / 3, p95, p99: p95 * 1.2, max: p95 * 1.5, mean: p95 / 2.5, count };
}

/** An arm's stats: `requests` completed, `failures` of them server errors, costs from the plan's prices. */
export function arm(requests: number, failures: number, price: { input: number; output: number }, p95 = 800, extra: Partial<ArmStats> = {}): ArmStats {
  const prompt = requests * 200;
  const completion = (requests - failures) * 120;
  return {
    ...emptyArmStats(),
    requests,
    successes: requests - failures,
    failures,
    failuresByClass: failures ? { server_error: failures } : {},
    retries: failures,
    latency: requests ? percentiles(p95, requests) : null,
    ttft: requests ? percentiles(p95 / 4, Math.floor(requests / 3)) : null,
    tokens: { prompt, completion },
    costUsd: (prompt * price.input + completion * price.output) / 1e6,
    ...extra,
  };
}

const BLUE = { input: 2.5, output: 10 };
const GREEN = { input: 2, output: 8 };
const WEIGHTS = [0.1, 0.25, 0.5, 0.75, 1];

type StageSpec = { verdict: StageVerdict; blue?: [number, number]; green?: [number, number]; ranMs?: number };

function stages(specs: StageSpec[]): StageStats[] {
  let at = START;
  return specs.map((spec, index) => {
    const started = spec.verdict !== 'skipped' && spec.verdict !== 'pending';
    const ran = spec.ranMs ?? STAGE_MS;
    const stage: StageStats = {
      index,
      greenWeight: WEIGHTS[index]!,
      durationMs: STAGE_MS,
      verdict: spec.verdict,
      arms: {
        blue: spec.blue ? arm(spec.blue[0], spec.blue[1], BLUE) : emptyArmStats(),
        green: spec.green ? arm(spec.green[0], spec.green[1], GREEN, 900, { consecutiveFailures: Math.min(spec.green[1], 3) }) : emptyArmStats(),
      },
    };
    if (started) {
      stage.startedAt = at;
      stage.endedAt = at + ran;
      at += ran;
    }
    return stage;
  });
}

function snapshot(plan: Plan, stageStats: StageStats[], rest: Partial<RolloutSnapshot>): RolloutSnapshot {
  const last = rest.stageIndex ?? stageStats.length - 1;
  const current = stageStats[last]!;
  const verdict = evaluate({ stageIndex: last, stageCount: plan.stages.length, green: current.arms.green, blue: current.arms.blue, config: plan.analysis });
  // The engine keeps the checks that decided each stage (it passed on them, or one breached): the last stage's
  // are the snapshot's own, the earlier ones' what the same analysis makes of their figures.
  for (const stage of stageStats) {
    if (stage.verdict !== 'passed' && stage.verdict !== 'failed') continue;
    stage.checks =
      stage.index === last
        ? verdict.checks
        : evaluate({
            stageIndex: stage.index,
            stageCount: plan.stages.length,
            green: stage.arms.green,
            blue: stage.arms.blue,
            blueStages: stageStats.slice(0, stage.index + 1).map((s) => s.arms.blue),
            greenWeight: stage.greenWeight,
            plannedBlue: plannedBlueRequests(plan),
            config: plan.analysis,
          }).checks;
  }
  const endedAt = Math.max(...stageStats.map((s) => s.endedAt ?? 0)) + 250;
  return {
    version: 1,
    plan: snapshotPlan(plan),
    pid: 4242,
    phase: 'promoted',
    startedAt: START,
    updatedAt: endedAt,
    endedAt,
    stageIndex: last,
    stageElapsedMs: current.endedAt !== undefined && current.startedAt !== undefined ? current.endedAt - current.startedAt : 0,
    greenWeight: 1,
    stages: stageStats,
    checks: verdict.checks,
    ...(verdict.breach ? { breach: verdict.breach, reason: verdict.breach.message } : {}),
    window: {
      blue: { seconds: 10, requestsPerSecond: 0, errorRate: 0, latencyP95: null },
      green: { seconds: 10, requestsPerSecond: 0, errorRate: 0, latencyP95: null },
    },
    greenErrorTrend: [],
    recentEvents: [],
    ...rest,
  };
}

/** Every stage passed. Stage 1's green saw only 12 requests: its rates stay unjudged ("waiting"). */
export function promotedSnapshot(plan: Plan): RolloutSnapshot {
  const stats = stages([
    { verdict: 'passed', blue: [1080, 3], green: [12, 0] },
    { verdict: 'passed', blue: [900, 2], green: [300, 1] },
    { verdict: 'passed', blue: [600, 1], green: [600, 3] },
    { verdict: 'passed', blue: [300, 1], green: [900, 4] },
    { verdict: 'passed', green: [1200, 6] },
  ]);
  return snapshot(plan, stats, {
    phase: 'promoted',
    exitCode: 0,
    greenWeight: 1,
    reason: `all 5 stages passed; gpt-4.1 takes 100% of traffic`,
  });
}

/** Green fails 15 of 48 requests in stage 3 (31.2%): error_rate and the blue comparison both breach. */
export function rolledBackSnapshot(plan: Plan): RolloutSnapshot {
  const stats = stages([
    { verdict: 'passed', blue: [1080, 3], green: [12, 0] },
    { verdict: 'passed', blue: [900, 2], green: [300, 1] },
    { verdict: 'failed', blue: [144, 2], green: [48, 15], ranMs: 9_400 },
    { verdict: 'skipped' },
    { verdict: 'skipped' },
  ]);
  return snapshot(plan, stats, { phase: 'rolled_back', exitCode: 10, greenWeight: 0, stageIndex: 2 });
}
