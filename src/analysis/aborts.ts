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
//   first ABORTS_PER_CLIENT in a stage count there; the rest are left out (neither a failure nor a request), on
//   either arm. A green its users give up on is still seen: every client's first aborts count, and a client that
//   only aborts counts as failing every time (its excess aborts are left out of the requests too);
// - consecutive_errors ignores it (a client closing a page cuts several requests at once): it neither extends
//   nor breaks a streak (src/metrics/recorder.ts);
// - the p95 ratio takes its age as a lower bound of its latency and counts it as slower than anything for the
//   upper bound (quantile.ts).
import { hashString } from '../core/random.js';
import type { ArmStats } from '../metrics/types.js';

/**
 * Aborts of one sticky client counted per stage and arm in the comparisons: one client adds at most this many
 * failures to an arm's stage, and a user giving up now and then is never capped (docs/benchmarks-history.md, session 12).
 */
export const ABORTS_PER_CLIENT = 3;

/**
 * The sticky id as a result carries it inside the proxy that made it: a 32-bit FNV digest, never the user or
 * conversation id. It does not leave the proxy as it is (a dictionary of ids reverses it in seconds): the results
 * feed and the handover file carry an HMAC-SHA256 of it under a key derived from the admin token instead
 * (src/proxy/client-digest.ts), the same on every proxy of a rollout.
 */
export function stickyClient(stickyKey: string): string {
  return hashString(stickyKey, CLIENT_DIGEST_SEED).toString(36);
}

const CLIENT_DIGEST_SEED = 0x5eed;

/** The arm's failures and requests as the comparisons count them: without aborts past a client's cap. */
export function comparedFailures(arm: ArmStats): { x: number; n: number } {
  const left = arm.abortsPastClientCap ?? 0;
  return { x: arm.failures - left, n: arm.requests - left };
}

/** The arm's requests whose client went away before the first byte. */
export function clientAborts(arm: ArmStats): number {
  return arm.failuresByClass.client_abort ?? 0;
}
