// One function per rule: each turns the arms' figures into a CheckResult and, if crossed, a message.
import type { ArmStats, Percentiles } from '../metrics/types.js';
import { blame } from './blame.js';
import type { CheckResult, RuleName, Unit } from './types.js';

export interface RuleContext {
  green: ArmStats;
  blue: ArmStats;
  /** What comparisons and blame judge green against: the stage's blue, or blue over the rollout so far at 100% green (evaluate.ts). */
  blueReference: ArmStats;
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

export function consecutiveErrors(ctx: RuleContext, limit: number): Judged {
  // Judged at any sample size: a run of failures is the fastest signal there is.
  return judge({
    rule: 'consecutive_errors',
    unit: 'count',
    limit,
    inclusive: true,
    ready: true,
    figure: ctx.green.consecutiveFailures,
    sample: ctx.green.requests,
    message: (figure) => `green consecutive_errors ${figure} >= ${limit}${ctx.where}${blame(ctx.green, ctx.blueReference)}`,
  });
}

export function healthCheck(ctx: RuleContext, health: HealthInput): Judged {
  const limit = health.failuresToRollback;
  return judge({
    rule: 'health_check',
    unit: 'count',
    limit,
    inclusive: true,
    ready: true,
    figure: health.consecutiveFailures,
    sample: health.checks ?? health.consecutiveFailures,
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
