// Client aborts: a proxied request whose client went away before its first byte (the application's own timeout,
// an impatient user) is recorded as a failure of class `client_abort`, at its age then. Nobody saw how it would
// have ended, so each rule uses it only in the direction that is certain:
//
// - absolute rules (error_rate, latency_p95/p99) count it for their upper bound as a failure / a request over
//   the limit, and for their lower bound (the breach side) as neither, except that a request the client
//   dropped after the latency limit was over it. An abort can then keep a rule from reading ok, never roll
//   green back. Valid without any assumption on the clients: the counts seen bracket the true ones request by
//   request, and the confidence sequence's bounds only grow with the count (sequential.ts);
// - the comparisons with blue and the built-in guard count it as a failure on either arm: green's stage is
//   judged against the same stage's blue, so impatient users (who abort on a healthy blue too) move both sides
//   alike, and a green its clients give up on more often than on blue fails more. That holds for users many and
//   small against the sample. The split is sticky, so it draws clients, not requests: one heavy impatient client
//   weighs on one arm alone, and its aborts would be judged as the arm's. So of one sticky client's aborts only the
//   first ABORTS_PER_CLIENT in a stage count there, and of the rest those given up after blue's p99 latency (a
//   request blue would almost always have answered by then: the arm was slow, not the client impatient); the
//   others are left out (neither a failure nor a request), on either arm. A green its users give up on is still
//   seen: every client's first aborts count, a client that only aborts counts as failing every time (its excess
//   aborts are left out of the requests too), and a heavy client a slow green makes give up counts in full;
// - consecutive_errors ignores it (a client closing a page cuts several requests at once): it neither extends
//   nor breaks a streak (src/metrics/recorder.ts);
// - the p95 ratio takes its age as a lower bound of its latency and counts it as slower than anything for the
//   upper bound (quantile.ts).
import { hashString } from '../core/random.js';
import { bucketLowerMs } from '../metrics/buckets.js';
import type { ArmStats } from '../metrics/types.js';
import type { UpstreamResult } from '../upstream/types.js';
import { rateInterval, type Interval, type Prior } from './sequential.js';

/**
 * Aborts of one sticky client counted per stage and arm in the comparisons: one client adds at most this many
 * failures to an arm's stage, and a user giving up now and then is never capped (docs/benchmarks.md, "Verdicts").
 */
export const ABORTS_PER_CLIENT = 3;

/** The sticky id as results carry it: a digest (the same on every proxy), never the user or conversation id. */
export function stickyClient(stickyKey: string): string {
  return hashString(stickyKey, CLIENT_DIGEST_SEED).toString(36);
}

const CLIENT_DIGEST_SEED = 0x5eed;

/**
 * Blue completed requests a stage needs before its p99 splits aborts past the cap: with fewer the p99 is about
 * the largest latency seen.
 */
export const P99_MIN_REQUESTS = 100;

/**
 * Blue's p99 latency (ms) that aborts past a client's cap are split at, as it stands at this judgement (over
 * requests completed, aborts at their ages): the stage's own once it has P99_MIN_REQUESTS, else (early in a
 * stage, or a stage sending blue little or nothing) that of the stage so far with the most. Undefined while no
 * stage has that many: then no abort past the cap counts.
 */
export function blueP99ForAborts(blue: ArmStats, blueStages: readonly ArmStats[] = []): number | undefined {
  let most = blue.latency;
  if (!most || most.count < P99_MIN_REQUESTS)
    for (const stage of blueStages) if (stage.latency && stage.latency.count > (most?.count ?? 0)) most = stage.latency;
  return most && most.count >= P99_MIN_REQUESTS ? most.p99 : undefined;
}

/**
 * Aborts past a client's cap given up surely after `blueP99Ms`: those in age buckets wholly above it (buckets
 * are 2% wide, so one given up within 2% above it may be left out). None without a p99.
 */
export function lateAbortsPastCap(arm: ArmStats, blueP99Ms: number | undefined): number {
  const ages = arm.pastCapAbortAges;
  if (blueP99Ms === undefined || !ages) return 0;
  let late = 0;
  ages.counts.forEach((count, k) => {
    if (bucketLowerMs(ages.first + k) >= blueP99Ms) late += count;
  });
  return late;
}

/**
 * The arm's failures and requests as the comparisons count them: without aborts past a client's cap, except those
 * given up after blue's p99 (blueP99ForAborts).
 */
export function comparedFailures(arm: ArmStats, blueP99Ms?: number): { x: number; n: number } {
  const left = (arm.abortsPastClientCap ?? 0) - lateAbortsPastCap(arm, blueP99Ms);
  return { x: arm.failures - left, n: arm.requests - left };
}

/** The arm's requests whose client went away before the first byte. */
export function clientAborts(arm: ArmStats): number {
  return arm.failuresByClass.client_abort ?? 0;
}

export function isClientAbort(result: Pick<UpstreamResult, 'ok' | 'failure'>): boolean {
  return !result.ok && result.failure === 'client_abort';
}

/**
 * The confidence sequence for a rate when `unknown` of the n outcomes were not seen: the lower bound as if none
 * of them were events, the upper as if all were. Both hold whenever the sequence on the true counts does (its
 * lower bound grows with the count, its upper bound too), so the pair holds with the same 1 - alpha.
 */
export function censoredInterval(x: number, unknown: number, n: number, alpha: number, prior: Prior): Interval {
  const high = Math.min(n, x + unknown);
  if (high === x) return rateInterval(x, n, alpha, prior);
  return { lower: rateInterval(x, n, alpha, prior).lower, upper: rateInterval(high, n, alpha, prior).upper };
}
