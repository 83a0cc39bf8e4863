// The verdict for one stage: every configured rule checked, and the first breach in priority order.
import type { ArmStats } from '../metrics/types.js';
import type { AnalysisConfig } from '../plan/schema.js';
import { checkAlpha, needsGuard } from './budget.js';
import {
  compareErrorRate,
  compareQualityFailRate,
  errorRate,
  failsMoreThanBlue,
  latency,
  qualityFailRate,
  ttftP95,
  type SequentialContext,
} from './rate-rules.js';
import { compareLatency } from './latency-ratio.js';
import { consecutiveErrors, healthCheck, type HealthInput, type Judged, type RunningLatency } from './rules.js';
import { blueReference, blueSentReference } from './reference.js';
import type { SentBefore } from './quantile.js';
import { judgedSinceEachStage } from './since-stage.js';
import type { Breach, Verdict } from './types.js';

export interface EvaluateInput {
  /** 0-based; messages show it 1-based. */
  stageIndex: number;
  /** Stages in the plan: the false-rollback budget is split across them. */
  stageCount: number;
  green: ArmStats;
  blue: ArmStats;
  /**
   * Blue's figures in every stage so far, this one last (the metrics' stages): a stage that plans too few blue
   * requests of its own (100% green) judges against all of them added up (reference.ts). Without them, the stage's blue.
   */
  blueStages?: readonly ArmStats[];
  /**
   * Green's figures in every stage so far, this one last (its figures as `green`): error_rate and quality_fail_rate
   * judge green since each stage began too (since-stage.ts). Without them, the stage's green alone.
   */
  greenStages?: readonly ArmStats[];
  /** The stage's planned green weight. */
  greenWeight?: number;
  /** Blue requests the plan sends in each stage (plannedBlueRequests), when it can say. */
  plannedBlue?: readonly number[];
  config: AnalysisConfig;
  /** The green upstream's health check, when the plan has one. */
  health?: HealthInput;
  /** Green latency counting requests still running past each latency rule's limit (see RunningLatency). */
  greenRunning?: Partial<Record<'latency_p95' | 'latency_p99', RunningLatency>>;
  /** Ages (ms) of the stage's green requests still running, when the engine watches them (the p95 ratio rule). */
  greenRunningAgesMs?: readonly number[];
  /**
   * Blue's send times in every stage so far, as `blueStages` (the engine's watch of blue, or the live proxies'
   * reports, for the p95 ratio's sent-before bound, quantile.ts); absent where not known: blue's running requests
   * then count as slower than anything.
   */
  blueSent?: readonly (SentBefore | undefined)[];
  /**
   * Green's send times in the stage (the engine's, of the requests it generates, or the live proxies' reports), for
   * its p95's sent-before bound (the ratio's ok side); used only where they cover green's sample (quantile.ts).
   */
  greenSent?: SentBefore;
}

/**
 * Pure: the same figures give the same verdict, however often it is called (the sequential rules depend on
 * the stage's cumulative counts alone). Checks are listed in priority order, which is also the order a breach
 * is chosen in: hard failures first (streaks, error rates, health), then latency, then quality.
 */
export function evaluate(input: EvaluateInput): Verdict {
  const { config, health } = input;
  const thresholds = config.thresholds;
  const compare = config.compare_to_blue;
  const ctx: SequentialContext = {
    green: input.green,
    blue: input.blue,
    blueReference: blueReference(input),
    // With no samples there is no figure, so even min_requests: 0 waits for one.
    minRequests: Math.max(1, config.min_requests),
    where: ` in stage ${input.stageIndex + 1}`,
    alpha: checkAlpha(config, input.stageCount),
  };

  const judged: Judged[] = [];
  if (thresholds.consecutive_errors !== undefined) judged.push(consecutiveErrors(ctx, thresholds.consecutive_errors));
  const sinceEachStage = (judge: (ctx: SequentialContext) => Judged): Judged => judgedSinceEachStage(ctx, input.stageIndex, input.greenStages, judge);
  const errorLimit = thresholds.error_rate;
  if (errorLimit !== undefined) judged.push(sinceEachStage((c) => errorRate(c, errorLimit)));
  if (compare?.max_error_rate_increase !== undefined) judged.push(compareErrorRate(ctx, compare.max_error_rate_increase));
  if (needsGuard(config)) judged.push(failsMoreThanBlue(ctx));
  if (health) judged.push(healthCheck(ctx, health));
  if (thresholds.latency_p95 !== undefined) judged.push(latency(ctx, 'latency_p95', thresholds.latency_p95, input.greenRunning?.latency_p95));
  if (thresholds.latency_p99 !== undefined) judged.push(latency(ctx, 'latency_p99', thresholds.latency_p99, input.greenRunning?.latency_p99));
  if (thresholds.ttft_p95 !== undefined) judged.push(ttftP95(ctx, thresholds.ttft_p95));
  if (compare?.max_latency_p95_ratio !== undefined)
    judged.push(compareLatency(ctx, compare.max_latency_p95_ratio, input.greenRunningAgesMs, blueSentReference(input), input.greenSent));
  const qualityLimit = thresholds.quality_fail_rate;
  if (qualityLimit !== undefined) judged.push(sinceEachStage((c) => qualityFailRate(c, qualityLimit)));
  if (compare?.max_quality_fail_rate_increase !== undefined) judged.push(compareQualityFailRate(ctx, compare.max_quality_fail_rate_increase));

  const verdict: Verdict = { checks: judged.map((j) => j.check) };
  const first = judged.find((j) => j.message !== undefined);
  if (first?.message !== undefined) {
    const { rule, figure, limit, unit, sample, evidence } = first.check;
    const breach: Breach = { rule, figure, limit, unit, sample, message: first.message };
    if (evidence) breach.evidence = evidence;
    verdict.breach = breach;
  }
  return verdict;
}
