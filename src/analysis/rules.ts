// One function per rule: each turns the arms' figures into a CheckResult and, if crossed, a message.
import type { ArmStats, Percentiles } from '../metrics/types.js';
import { formatFactor, formatMs, formatPercent, formatPoints } from '../core/format.js';
import type { CheckResult, RuleName, Unit } from './types.js';

export interface RuleContext {
  green: ArmStats;
  blue: ArmStats;
  /** Samples an arm needs before a rate or percentile is judged; at least 1. */
  minRequests: number;
  /** " in stage 3" (1-based), appended to every message. */
  where: string;
}

export interface HealthInput {
  consecutiveFailures: number;
  failuresToRollback: number;
  lastError?: string;
  /** Health checks run so far, shown as the sample when given. */
  checks?: number;
}

export interface Judged {
  check: CheckResult;
  /** Set when the check is a breach. */
  message?: string;
}

const EPSILON = 1e-9;

/** figure > limit, strictly, with float noise (0.08 - 0.06 = 0.020000000000000004) not counted as crossing. */
export function exceeds(figure: number, limit: number): boolean {
  return figure - limit > EPSILON * Math.max(1, Math.abs(limit));
}

/** figure / limit, never negative; a zero limit has no ratio, so 0 within it and 1 beyond it. */
export function proximity(figure: number, limit: number): number {
  if (limit > 0) return Math.max(0, figure / limit);
  return exceeds(figure, limit) ? 1 : 0;
}

interface Spec {
  rule: RuleName;
  unit: Unit;
  limit: number;
  figure: number | null;
  sample: number;
  blueSample?: number;
  /** Enough samples to judge; the figure is reported either way. */
  ready: boolean;
  /** Counts breach at the limit (>=); rates and latencies only beyond it (>). */
  inclusive?: boolean;
  message: (figure: number) => string;
}

function judge(spec: Spec): Judged {
  const { rule, unit, limit, figure, sample } = spec;
  const base: CheckResult = { rule, status: 'waiting', figure, limit, unit, sample, proximity: null };
  if (spec.blueSample !== undefined) base.blueSample = spec.blueSample;
  if (!spec.ready || figure === null) return { check: base };
  const breached = spec.inclusive ? figure >= limit : exceeds(figure, limit);
  const check: CheckResult = { ...base, status: breached ? 'breach' : 'ok', proximity: proximity(figure, limit) };
  return breached ? { check, message: spec.message(figure) } : { check };
}

const rate = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

export function consecutiveErrors(ctx: RuleContext, limit: number): Judged {
  // Judged at any sample size: a run of failures is the fastest signal there is.
  return judge({
    rule: 'consecutive_errors', unit: 'count', limit, inclusive: true, ready: true,
    figure: ctx.green.consecutiveFailures, sample: ctx.green.requests,
    message: (figure) => `green consecutive_errors ${figure} >= ${limit}${ctx.where}`,
  });
}

export function errorRate(ctx: RuleContext, limit: number): Judged {
  const sample = ctx.green.requests;
  return judge({
    rule: 'error_rate', unit: 'ratio', limit, sample,
    figure: rate(ctx.green.failures, sample), ready: sample >= ctx.minRequests,
    message: (figure) => `green error_rate ${formatPercent(figure)} > ${formatPercent(limit)} over ${sample} requests${ctx.where}`,
  });
}

export function compareErrorRate(ctx: RuleContext, limit: number): Judged {
  const { green, blue } = ctx;
  const greenRate = rate(green.failures, green.requests);
  const blueRate = rate(blue.failures, blue.requests);
  return judge({
    rule: 'compare_to_blue.max_error_rate_increase', unit: 'ratio', limit,
    sample: green.requests, blueSample: blue.requests,
    figure: greenRate !== null && blueRate !== null ? greenRate - blueRate : null,
    ready: green.requests >= ctx.minRequests && blue.requests >= ctx.minRequests,
    message: (figure) =>
      `green error rate ${formatPercent(greenRate ?? 0)} vs blue ${formatPercent(blueRate ?? 0)}: ${formatPoints(figure)} points > ${formatPoints(limit)} allowed ` +
      `(green ${green.requests}, blue ${blue.requests} requests)${ctx.where}`,
  });
}

export function healthCheck(ctx: RuleContext, health: HealthInput): Judged {
  const limit = health.failuresToRollback;
  return judge({
    rule: 'health_check', unit: 'count', limit, inclusive: true, ready: true,
    figure: health.consecutiveFailures, sample: health.checks ?? health.consecutiveFailures,
    message: (figure) => `health check failed ${figure} times in a row${health.lastError ? ` (last: ${health.lastError})` : ''}${ctx.where}`,
  });
}

/**
 * Green latency from the requests that answered plus those still running past the limit (`running`), each
 * counted at its age so far: it can only grow, so a figure over the limit stays over it.
 */
export interface RunningLatency {
  latency: Percentiles;
  /** Requests still running past the limit, included in latency.count. */
  running: number;
}

export function latency(ctx: RuleContext, rule: 'latency_p95' | 'latency_p99', limit: number, withRunning?: RunningLatency): Judged {
  const running = withRunning?.running ?? 0;
  const stats = running > 0 && withRunning ? withRunning.latency : ctx.green.latency;
  const sample = stats?.count ?? 0;
  const note = running > 0 ? `, ${running} of them still running past ${formatMs(limit)}` : '';
  return judge({
    rule, unit: 'ms', limit, sample,
    figure: stats ? (rule === 'latency_p95' ? stats.p95 : stats.p99) : null,
    ready: sample >= ctx.minRequests,
    message: (figure) => `green ${rule} ${running > 0 ? 'at least ' : ''}${formatMs(figure)} > ${formatMs(limit)} over ${sample} requests${note}${ctx.where}`,
  });
}

export function ttftP95(ctx: RuleContext, limit: number): Judged {
  const stats = ctx.green.ttft;
  const sample = stats?.count ?? 0;
  return judge({
    rule: 'ttft_p95', unit: 'ms', limit, sample,
    figure: stats?.p95 ?? null, ready: sample >= ctx.minRequests,
    message: (figure) => `green ttft_p95 ${formatMs(figure)} > ${formatMs(limit)} over ${sample} streamed requests${ctx.where}`,
  });
}

export function compareLatency(ctx: RuleContext, limit: number): Judged {
  const green = ctx.green.latency;
  const blue = ctx.blue.latency;
  const greenSample = green?.count ?? 0;
  const blueSample = blue?.count ?? 0;
  // A blue p95 of 0 gives no ratio: the rule waits rather than divide by zero.
  const figure = green && blue && blue.p95 > 0 ? green.p95 / blue.p95 : null;
  return judge({
    rule: 'compare_to_blue.max_latency_p95_ratio', unit: 'factor', limit,
    sample: greenSample, blueSample, figure,
    ready: greenSample >= ctx.minRequests && blueSample >= ctx.minRequests,
    message: (ratio) =>
      `green latency_p95 ${formatMs(green?.p95 ?? 0)} vs blue ${formatMs(blue?.p95 ?? 0)}: ${formatFactor(ratio)} > ${formatFactor(limit)} allowed ` +
      `(green ${greenSample}, blue ${blueSample} requests)${ctx.where}`,
  });
}

export function qualityFailRate(ctx: RuleContext, limit: number): Judged {
  // Over successful responses: only those were checked for quality.
  const sample = ctx.green.successes;
  return judge({
    rule: 'quality_fail_rate', unit: 'ratio', limit, sample,
    figure: rate(ctx.green.qualityFailures, sample), ready: sample >= ctx.minRequests,
    message: (figure) => `green quality_fail_rate ${formatPercent(figure)} > ${formatPercent(limit)} over ${sample} successful responses${ctx.where}`,
  });
}
