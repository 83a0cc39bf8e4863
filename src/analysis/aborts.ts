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
//   alike, and a green its clients give up on more often than on blue fails more;
// - consecutive_errors ignores it (a client closing a page cuts several requests at once): it neither extends
//   nor breaks a streak (src/metrics/recorder.ts);
// - the p95 ratio takes its age as a lower bound of its latency and counts it as slower than anything for the
//   upper bound (quantile.ts).
import type { ArmStats } from '../metrics/types.js';
import type { UpstreamResult } from '../upstream/types.js';
import { rateInterval, type Interval, type Prior } from './sequential.js';

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
