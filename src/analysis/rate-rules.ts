// The sequential rules: each judges a rate (errors, quality failures, requests over a latency limit, or green's
// rate minus blue's) with anytime-valid one-sided bounds (see sequential.ts): it breaches when the lower bound is
// above the limit, so looking at it every interval spends no more than the check's share of the false-rollback
// budget, and reads ok when the upper bound (at the same confidence) is at or below it.
//
// Requests still running count too, as outcomes not seen yet: the test's requests are those sent so far, in the
// order sent. Judging only those answered would judge them in the order they answered, and where failures answer
// faster than successes (a 500 in 50 ms, an answer in 10 s) the answered ones are rich in failures until the
// slow successes arrive: a green failing 1% at a 5% limit, or as often as blue but answering slower, was rolled
// back. The latency rules need no such care: a request running past the limit counts as over it, and one
// running short of it is among the last sent, whose answered peers are all under it.
import type { ArmStats } from '../metrics/types.js';
import { blame } from './blame.js';
import { formatMs, formatPercent, formatPoints, pointsDecimals } from '../core/format.js';
import { formatAtLeast } from './format.js';
import { exceeds, proximity, type Judged, type RuleContext, type RunningLatency } from './rules.js';
import { ABORTS_PER_CLIENT, clientAborts, comparedFailures } from './aborts.js';
import { censoredBounds, differenceBounds, priorAround, type ArmCounts, type Bounds } from './sequential.js';
import type { CheckResult, CheckStatus, RateEvidence, RuleName, Unit } from './types.js';

export interface SequentialContext extends RuleContext {
  /** This check's share of the rollout's false-rollback budget (see budget.ts). */
  alpha: number;
}

/** The share a percentile rule allows over its limit: p95 > L means more than 5% of requests take longer. */
export const PERCENTILE_SHARE = { latency_p95: 0.05, latency_p99: 0.01, ttft_p95: 0.05 } as const;

/** Comparisons mix over rates near a typical failure rate; the prior only shapes power, never validity. */
const COMPARE_PRIOR_CENTER = 0.05;

/** Breach on the lower bound alone, ok on the upper alone: each is a one-sided bound at the check's 1 - alpha. */
function statusOf(bounds: Bounds, limit: number, ready: boolean): CheckStatus {
  if (!ready) return 'waiting';
  if (exceeds(bounds.lower, limit)) return 'breach';
  return bounds.upper <= limit ? 'ok' : 'undecided';
}

function evidenceOf(estimate: number, bounds: Bounds, limit: number, alpha: number, overMs?: number): RateEvidence {
  const evidence: RateEvidence = { estimate, lower: bounds.lower, upper: bounds.upper, limit, confidence: 1 - alpha };
  if (overMs !== undefined) evidence.overMs = overMs;
  return evidence;
}

interface RateSpec {
  rule: RuleName;
  /** x events in n trials; the rate judged is x / n. */
  x: number;
  n: number;
  /** Of the n, outcomes nobody saw (client aborts): events for the upper bound, not for the lower (aborts.ts). */
  unknown?: number;
  /** Requests sent and still running, beside the n: in the test's count, their outcomes unknown either way. */
  running?: number;
  /** The rate shown; x / n unless given. */
  estimate?: number;
  rateLimit: number;
  /** What the check shows: the rate itself, or (latency rules) a percentile against its ms limit. */
  figure: number | null;
  limit: number;
  unit: Unit;
  ready: boolean;
  message: (evidence: RateEvidence) => string;
}

function judgeRate(ctx: SequentialContext, spec: RateSpec): Judged {
  const { rule, x, n, rateLimit, figure, limit, unit } = spec;
  const check: CheckResult = { rule, status: 'waiting', figure, limit, unit, sample: n, proximity: null };
  if (n === 0) return { check };
  const running = spec.running ?? 0;
  const bounds = censoredBounds(x, (spec.unknown ?? 0) + running, n + running, ctx.alpha, priorAround(rateLimit));
  const estimate = spec.estimate ?? x / n;
  const evidence = evidenceOf(estimate, bounds, rateLimit, ctx.alpha, unit === 'ms' ? limit : undefined);
  check.evidence = evidence;
  check.status = statusOf(bounds, rateLimit, spec.ready);
  if (check.status !== 'waiting') check.proximity = proximity(estimate, rateLimit);
  return check.status === 'breach' ? { check, message: spec.message(evidence) } : { check };
}

/** A rate judged against a fixed limit: x of n, shown as the rate itself. */
function plainRate(ctx: SequentialContext, rule: RuleName, x: number, n: number, limit: number, over: string, running: number): Judged {
  return judgeRate(ctx, {
    rule,
    x,
    n,
    running,
    rateLimit: limit,
    figure: n > 0 ? x / n : null,
    limit,
    unit: 'ratio',
    ready: n >= ctx.minRequests,
    message: (ev) => `green ${rule} ${formatPercent(ev.estimate)} ${formatAtLeast(ev)} > ${formatPercent(limit)} over ${n} ${over}${ctx.where}`,
  });
}

export function errorRate(ctx: SequentialContext, limit: number): Judged {
  // A client abort is no answer either way (aborts.ts): the rate shown is over the requests that ended.
  const { requests, failures } = ctx.green;
  const aborts = clientAborts(ctx.green);
  const x = failures - aborts;
  const estimate = requests > aborts ? x / (requests - aborts) : 0;
  const running = unanswered(ctx.green);
  const note = (aborts > 0 ? `, ${aborts} of them given up by their clients` : '') + runningNote(ctx.green.inFlight, ctx.green.lost ?? 0, 'more still running');
  const judged = judgeRate(ctx, {
    rule: 'error_rate',
    x,
    n: requests,
    unknown: aborts,
    running,
    estimate,
    rateLimit: limit,
    figure: requests > aborts ? estimate : null,
    limit,
    unit: 'ratio',
    ready: requests >= ctx.minRequests,
    message: (ev) =>
      `green error_rate ${formatPercent(ev.estimate)} ${formatAtLeast(ev)} > ${formatPercent(limit)} over ${requests} requests${note}${ctx.where}`,
  });
  if (judged.message !== undefined) judged.message += blame(ctx.green, ctx.blueReference);
  return judged;
}

export function qualityFailRate(ctx: SequentialContext, limit: number): Judged {
  // Over successful responses: only those were checked for quality.
  // A running request may yet answer, well or not: it counts among the successes judged, its outcome unknown.
  return plainRate(ctx, 'quality_fail_rate', ctx.green.qualityFailures, ctx.green.successes, limit, 'successful responses', unanswered(ctx.green));
}

/**
 * Share of green requests slower than the limit, counting those still running past it (they can only end
 * slower). `running` comes from the engine's overdue watch; its latency figures include them.
 */
export function latency(ctx: SequentialContext, rule: 'latency_p95' | 'latency_p99', limitMs: number, withRunning?: RunningLatency): Judged {
  const running = withRunning?.running ?? 0;
  const stats = running > 0 && withRunning ? withRunning.latency : ctx.green.latency;
  const n = ctx.green.requests + running;
  const x = slowCount(ctx.green, 'latency', limitMs) + running;
  const share = PERCENTILE_SHARE[rule];
  const note = running > 0 ? `, ${running} of them still running` : '';
  return judgeRate(ctx, {
    rule,
    x,
    n,
    // Given up by their clients: over the limit if dropped after it (in x already), unknown otherwise.
    unknown: clientAborts(ctx.green),
    // Lost in a crash (rollout --resume): their latencies, the longest of their time, never came.
    running: ctx.green.lost ?? 0,
    rateLimit: share,
    figure: stats ? (rule === 'latency_p95' ? stats.p95 : stats.p99) : null,
    limit: limitMs,
    unit: 'ms',
    ready: n >= ctx.minRequests,
    message: (ev) =>
      `green ${rule}: ${formatPercent(ev.estimate)} of ${n} requests over ${formatMs(limitMs)}${note} ${formatAtLeast(ev)} > ${formatPercent(share)} allowed${ctx.where}`,
  });
}

/**
 * Share of green's streamed requests whose first token came after the limit. A success counts by its first token, and
 * so does a failed stream cut after it; one with no first token ended within the limit had none after it, and one
 * ended after it or given up by its client is an outcome unknown, as are streamed requests still running (every one
 * in flight where a proxy or a saved state does not say which stream): judged on the successes alone, in the order
 * they answered, a stream that answers late (its first token late too) was missing from the judgement until it answered.
 */
export function ttftP95(ctx: SequentialContext, limitMs: number): Judged {
  const stats = ctx.green.ttft;
  const failed = ctx.green.failedStreams;
  const n = (stats?.count ?? 0) + (failed?.requests ?? 0);
  const x = slowCount(ctx.green, 'ttft', limitMs);
  const unknown = failed?.unknown[String(limitMs)] ?? 0;
  // Streamed ones only: a request that does not stream has no first token, and counted here it hid a breach mid-stage.
  const inFlight = ctx.green.streamedInFlight ?? ctx.green.inFlight;
  const lost = ctx.green.lostStreamed ?? ctx.green.lost ?? 0;
  const running = inFlight + lost;
  const share = PERCENTILE_SHARE.ttft_p95;
  const note = (unknown > 0 ? `, ${unknown} of them failed or given up after it` : '') + runningNote(inFlight, lost, 'more requests still running');
  return judgeRate(ctx, {
    rule: 'ttft_p95',
    x,
    n,
    unknown,
    running,
    rateLimit: share,
    figure: stats?.p95 ?? null,
    limit: limitMs,
    unit: 'ms',
    ready: n >= ctx.minRequests,
    message: (ev) =>
      `green ttft_p95: ${formatPercent(ev.estimate)} of ${n} streamed requests with a first token after ${formatMs(limitMs)}${note} ${formatAtLeast(ev)} > ${formatPercent(share)} allowed${ctx.where}`,
  });
}

interface CompareSpec {
  rule: RuleName;
  /** Noun for the message: "error rate", "quality failure rate". */
  what: string;
  /** Each arm's counts, its requests still running as `unknown`: both arms' answer in their own time. */
  green: ArmCounts;
  blue: ArmCounts;
  margin: number;
  blame?: string;
}

function judgeDifference(ctx: SequentialContext, spec: CompareSpec): Judged {
  const { rule, green, blue, margin } = spec;
  const figure = green.n > 0 && blue.n > 0 ? green.x / green.n - blue.x / blue.n : null;
  const check: CheckResult = { rule, status: 'waiting', figure, limit: margin, unit: 'ratio', sample: green.n, blueSample: blue.n, proximity: null };
  if (figure === null) return { check };
  const bounds = differenceBounds(green, blue, ctx.alpha, priorAround(COMPARE_PRIOR_CENTER));
  const evidence = evidenceOf(figure, bounds, margin, ctx.alpha);
  check.evidence = evidence;
  check.status = statusOf(bounds, margin, green.n >= ctx.minRequests && blue.n >= ctx.minRequests);
  if (check.status !== 'waiting') check.proximity = proximity(figure, margin);
  if (check.status !== 'breach') return { check };
  const decimals = pointsDecimals(figure, margin, bounds.lower, bounds.upper);
  const points = (diff: number) => formatPoints(diff, decimals);
  const message =
    `green ${spec.what} ${formatPercent(green.x / green.n)} vs blue ${formatPercent(blue.x / blue.n)}: ${points(figure)} points ` +
    `${formatAtLeast(evidence, points)} > ${points(margin)} allowed ` +
    `(green ${green.n}, blue ${blue.n} requests)${ctx.where}${spec.blame ?? ''}`;
  return { check, message };
}

export function compareErrorRate(ctx: SequentialContext, margin: number): Judged {
  return judgeDifference(ctx, {
    rule: 'compare_to_blue.max_error_rate_increase',
    what: 'error rate',
    margin,
    green: comparedArm(ctx.green),
    blue: comparedArm(ctx.blueReference),
    blame: blame(ctx.green, ctx.blueReference) + capNote(ctx),
  });
}

export function compareQualityFailRate(ctx: SequentialContext, margin: number): Judged {
  return judgeDifference(ctx, {
    rule: 'compare_to_blue.max_quality_fail_rate_increase',
    what: 'quality failure rate',
    margin,
    green: { x: ctx.green.qualityFailures, n: ctx.green.successes, unknown: unanswered(ctx.green) },
    blue: { x: ctx.blueReference.qualityFailures, n: ctx.blueReference.successes, unknown: unanswered(ctx.blueReference) },
  });
}

/** The built-in guard of a plan with no error-rate rule: green shown to fail more often than blue at all. */
export function failsMoreThanBlue(ctx: SequentialContext): Judged {
  return judgeDifference(ctx, {
    rule: 'guard.green_fails_more_than_blue',
    what: 'error rate (built-in guard: the plan sets no error-rate rule)',
    margin: 0,
    green: comparedArm(ctx.green),
    blue: comparedArm(ctx.blueReference),
    blame: blame(ctx.green, ctx.blueReference) + capNote(ctx),
  });
}

/** An arm's failures as the comparisons count them, its requests still running as outcomes unknown. */
function comparedArm(arm: ArmStats): ArmCounts {
  return { ...comparedFailures(arm), unknown: unanswered(arm) };
}

/**
 * An arm's sent requests with no outcome: those still running, and those a dead run had in flight at its last
 * state.json (rollout --resume), which never answer and stay unknown for good. Leaving the latter out would judge
 * the dead run's requests in the order they answered, short of its slow ones (see the top of this file).
 */
export function unanswered(arm: ArmStats): number {
  return arm.inFlight + (arm.lost ?? 0);
}

/** ", 3 more still running, 2 in flight at a crash (never answered)", or empty. */
function runningNote(inFlight: number, lost: number, running: string): string {
  return (inFlight > 0 ? `, ${inFlight} ${running}` : '') + (lost > 0 ? `, ${lost} in flight at a crash (never answered)` : '');
}

/** Says how many aborts were left out of a comparison as one client's too many. */
function capNote(ctx: SequentialContext): string {
  const green = ctx.green.abortsPastClientCap ?? 0;
  const blue = ctx.blueReference.abortsPastClientCap ?? 0;
  if (green + blue === 0) return '';
  return `; left out: ${green} green and ${blue} blue client aborts past ${ABORTS_PER_CLIENT} of one client`;
}

function slowCount(arm: ArmStats, kind: 'latency' | 'ttft', limitMs: number): number {
  return arm.slow?.[kind][String(limitMs)] ?? 0;
}
