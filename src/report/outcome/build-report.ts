// Turns the final snapshot (state.json) and the plan into the report every writer renders. Pure: same
// input, same report; nothing is read from the environment, so no secret can reach a report.
import { evaluate } from '../../analysis/evaluate.js';
import { plannedBlueRequests } from '../../analysis/reference.js';
import type { HealthInput } from '../../analysis/rules.js';
import type { CheckResult, RateEvidence } from '../../analysis/types.js';
import { describeExit } from '../../core/exit.js';
import { FINAL_PHASES, type RolloutSnapshot } from '../../engine/types.js';
import type { ArmStats, Percentiles, StageStats, StageVerdict } from '../../metrics/types.js';
import type { ArmName, Plan } from '../../plan/plan.js';
import type { LiveView } from '../../live/fleet.js';
import { describeCheck } from './check-text.js';
import { liveReport } from './live-report.js';
import type { ArmReport, CheckReport, CostReport, RolloutReport, StageReport } from './report-schema.js';
import { REPORT_VERSION } from './report-version.js';

export interface BuildReportInput {
  snapshot: RolloutSnapshot;
  plan: Plan;
  /** bluegreen's version (src/cli/version.ts), passed in to keep this pure. */
  version: string;
  /** A live rollout's final view of its proxies (live figures, reported apart from generated ones). */
  live?: LiveView;
}

export function buildReport({ snapshot, plan, version, live }: BuildReportInput): RolloutReport {
  const finished = snapshot.endedAt !== undefined && FINAL_PHASES.includes(snapshot.phase);
  const endedIn = endingStage(snapshot, finished);
  const stages = snapshot.stages.map((stage) => stageReport(stage, snapshot, plan, endedIn));
  const breach = snapshot.breach;
  const endedAtMs = snapshot.endedAt ?? null;
  return {
    reportVersion: REPORT_VERSION,
    bluegreenVersion: version,
    plan: {
      name: snapshot.plan.name,
      file: snapshot.plan.file,
      hash: snapshot.plan.hash,
      blueModel: snapshot.plan.blueModel,
      greenModel: snapshot.plan.greenModel,
      stageCount: snapshot.plan.stages.length,
      prices: { blue: priceOf(plan, 'blue'), green: priceOf(plan, 'green') },
    },
    outcome: {
      phase: snapshot.phase,
      finished,
      promoted: snapshot.phase === 'promoted' && snapshot.exitCode === 0,
      exitCode: snapshot.exitCode ?? null,
      meaning: snapshot.exitCode !== undefined ? describeExit(snapshot.exitCode) : `still running (${snapshot.phase})`,
      reason: snapshot.reason ?? null,
      breach: breach
        ? {
            rule: breach.rule,
            figure: breach.figure,
            limit: breach.limit,
            unit: breach.unit,
            sample: breach.sample,
            interval: evidenceReport(breach.evidence),
            message: breach.message,
            stageIndex: endedIn.index,
          }
        : null,
      stageIndex: endedIn.index,
    },
    timings: {
      startedAt: iso(snapshot.startedAt),
      endedAt: endedAtMs === null ? null : iso(endedAtMs),
      startedAtMs: snapshot.startedAt,
      endedAtMs,
      durationMs: Math.max(0, (endedAtMs ?? snapshot.updatedAt) - snapshot.startedAt),
    },
    stages,
    totals: { blue: totals(stages, 'blue'), green: totals(stages, 'green') },
    cost: costComparison(stages, plan),
    live: live ? liveReport(live, snapshot.stages) : null,
  };
}

interface EndingStage {
  /** The stage the rollout ended in; null for an empty plan. */
  index: number | null;
  /** Verdict the report gives that stage when the engine left it unstarted (see below). */
  verdict?: StageVerdict;
}

/**
 * Where the rollout ended. Usually the engine's current stage; but a rollout can end while entering a stage
 * (its on_stage hook failed, or an abort arrived during the hook): the engine then leaves that stage
 * "skipped" and the previous one "passed". The report marks the stage being entered as the one that failed,
 * so a CI viewer always shows the red case that explains a non-zero exit.
 */
function endingStage(snapshot: RolloutSnapshot, finished: boolean): EndingStage {
  const stages = snapshot.stages;
  const decided = stages.find((s) => s.verdict === 'failed' || s.verdict === 'aborted');
  if (decided) return { index: decided.index };
  if (stages.length === 0) return { index: null };
  let index = Math.min(Math.max(0, snapshot.stageIndex), stages.length - 1);
  const notPromoted = finished && snapshot.phase !== 'promoted';
  if (!notPromoted) return { index };
  if (stages[index]?.verdict === 'passed' && index + 1 < stages.length) index += 1;
  const unstarted = stages[index]?.startedAt === undefined;
  if (!unstarted) return { index };
  return { index, verdict: snapshot.phase === 'rolled_back' ? 'failed' : 'aborted' };
}

function stageReport(stage: StageStats, snapshot: RolloutSnapshot, plan: Plan, endedIn: EndingStage): StageReport {
  const planned = snapshot.plan.stages[stage.index];
  const started = stage.startedAt !== undefined;
  // The judgement that decided the stage, as the engine made it: the figures below may have grown since (answers
  // to requests in flight at that moment), and judged again they could contradict the stage's verdict.
  const engineChecks = started ? stage.checks : undefined;
  const judged: CheckResult[] =
    engineChecks ??
    evaluate({
      stageIndex: stage.index,
      stageCount: snapshot.plan.stages.length,
      green: stage.arms.green,
      blue: stage.arms.blue,
      blueStages: snapshot.stages.slice(0, stage.index + 1).map((s) => s.arms.blue),
      greenStages: snapshot.stages.slice(0, stage.index + 1).map((s) => s.arms.green),
      greenWeight: planned?.greenWeight,
      plannedBlue: plannedBlueRequests(plan),
      config: plan.analysis,
      // The health check is not kept per stage: its latest state belongs to the stage the rollout ended in.
      health: stage.index === snapshot.stageIndex ? latestHealth(snapshot.checks) : undefined,
    }).checks;
  const minRequests = plan.analysis.min_requests;
  const checks = judged.map((check): CheckReport => {
    // A stage that never ran has no figures: its rules were not judged, whatever empty stats would say.
    const base = started
      ? {
          rule: check.rule,
          status: check.status,
          figure: check.figure,
          limit: check.limit,
          unit: check.unit,
          sample: check.sample,
          blueSample: check.blueSample ?? null,
          interval: evidenceReport(check.evidence),
        }
      : { rule: check.rule, status: 'not_run' as const, figure: null, limit: check.limit, unit: check.unit, sample: 0, blueSample: null, interval: null };
    return { ...base, summary: describeCheck({ check: base, minRequests }) };
  });
  const endedAt = stage.endedAt ?? (started && stage.index === snapshot.stageIndex ? (snapshot.endedAt ?? snapshot.updatedAt) : undefined);
  const verdict = endedIn.index === stage.index && endedIn.verdict ? endedIn.verdict : stage.verdict;
  return {
    index: stage.index,
    number: stage.index + 1,
    name: stage.name ?? planned?.name ?? null,
    // The planned weight: a rollback sets the live weight to 0, which would hide what the stage tested.
    greenWeight: planned?.greenWeight ?? stage.greenWeight,
    plannedDurationMs: planned?.durationMs ?? stage.durationMs,
    durationMs: stage.startedAt !== undefined && endedAt !== undefined ? Math.max(0, endedAt - stage.startedAt) : null,
    startedAt: stage.startedAt !== undefined ? iso(stage.startedAt) : null,
    endedAt: started && endedAt !== undefined ? iso(endedAt) : null,
    startedAtMs: stage.startedAt ?? null,
    endedAtMs: started ? (endedAt ?? null) : null,
    verdict,
    arms: { blue: armReport(stage.arms.blue), green: armReport(stage.arms.green) },
    checks,
    checksSource: !started ? 'not_run' : engineChecks ? 'engine' : 'recomputed',
  };
}

function latestHealth(checks: CheckResult[]): HealthInput | undefined {
  const health = checks.find((c) => c.rule === 'health_check');
  if (!health || health.figure === null) return undefined;
  return { consecutiveFailures: health.figure, failuresToRollback: health.limit, checks: health.sample };
}

function armReport(stats: ArmStats): ArmReport {
  const failuresByClass: Record<string, number> = {};
  for (const [name, value] of Object.entries(stats.failuresByClass)) if (value) failuresByClass[name] = value;
  return {
    requests: stats.requests,
    successes: stats.successes,
    failures: stats.failures,
    failuresByClass,
    retries: stats.retries,
    dropped: stats.dropped,
    qualityFailures: stats.qualityFailures,
    ...(stats.neutral !== undefined && stats.neutral > 0 && { neutral: stats.neutral }),
    errorRate: stats.requests > 0 ? stats.failures / stats.requests : null,
    latency: percentiles(stats.latency),
    ttft: percentiles(stats.ttft),
    tokens: { prompt: stats.tokens.prompt, completion: stats.tokens.completion },
    costUsd: usd(stats.costUsd),
  };
}

function percentiles(p: Percentiles | null): ArmReport['latency'] {
  if (!p || p.count === 0) return { p50: null, p95: null, p99: null, max: null, mean: null, count: 0 };
  return { p50: p.p50, p95: p.p95, p99: p.p99, max: p.max, mean: p.mean, count: p.count };
}

function totals(stages: StageReport[], arm: ArmName): RolloutReport['totals'][ArmName] {
  const sum = (pick: (a: ArmReport) => number) => stages.reduce((total, s) => total + pick(s.arms[arm]), 0);
  const requests = sum((a) => a.requests);
  const failures = sum((a) => a.failures);
  return {
    requests,
    successes: sum((a) => a.successes),
    failures,
    errorRate: requests > 0 ? failures / requests : null,
    retries: sum((a) => a.retries),
    dropped: sum((a) => a.dropped),
    tokens: { prompt: sum((a) => a.tokens.prompt), completion: sum((a) => a.tokens.completion) },
    costUsd: usd(sum((a) => a.costUsd)),
  };
}

/** Cost per 1,000 completed requests per arm, so arms that saw different traffic shares compare fairly. */
function costComparison(stages: StageReport[], plan: Plan): CostReport {
  const arm = (name: ArmName): CostReport[ArmName] => {
    const priced = plan.arms[name].price !== undefined;
    const { requests, costUsd } = totals(stages, name);
    return {
      priced,
      costUsd: priced ? costUsd : null,
      requests,
      usdPer1kRequests: priced && requests > 0 ? usd((costUsd / requests) * 1000) : null,
    };
  };
  const blue = arm('blue');
  const green = arm('green');
  const greenVsBlue =
    blue.usdPer1kRequests !== null && green.usdPer1kRequests !== null && blue.usdPer1kRequests > 0 ? green.usdPer1kRequests / blue.usdPer1kRequests - 1 : null;
  return { blue, green, greenVsBlue };
}

function priceOf(plan: Plan, arm: ArmName): RolloutReport['plan']['prices'][ArmName] {
  const price = plan.arms[arm].price;
  return price ? { inputPerMtok: price.input_per_mtok, outputPerMtok: price.output_per_mtok } : null;
}

/** Sums of float prices carry noise (0.0024939999999999997); a hundred-millionth of a dollar is plenty. */
function usd(value: number): number {
  return Math.round(value * 1e8) / 1e8;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function evidenceReport(evidence: RateEvidence | undefined): CheckReport['interval'] {
  if (!evidence) return null;
  const { estimate, lower, upper, limit, confidence, quantiles } = evidence;
  return { estimate, lower, upper, limit, confidence, overMs: evidence.overMs ?? null, ...(quantiles ? { quantiles } : {}) };
}
