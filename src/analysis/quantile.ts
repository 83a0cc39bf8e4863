// Anytime-valid confidence sequences for a latency percentile, from a rate confidence sequence over ranks.
//
// Howard & Ramdas, "Sequential estimation of quantiles with applications to A/B-testing and best-arm
// identification" (Bernoulli 2022, sec. 2): for the p-quantile q of any distribution,
//   - 1{X >= q} is Bernoulli with P(X >= q) >= 1 - p, so if a rate confidence sequence (sequential.ts) shows
//     the share of requests over a value v below 1 - p, then q <= v;
//   - 1{X > q} is Bernoulli with P(X > q) <= 1 - p, so if it shows the share at or over v above 1 - p, q >= v.
// Each edge is a one-sided bound (sequential.ts: only the mixture on its own side of 1 - p) and holds at every n at
// once with probability >= 1 - alpha, on its own stream: the pair is a (1 - 2 alpha) interval. Each is used on
// its own (the p95 ratio's breach needs green's lower edge and blue's upper edge only), as a rate rule's are. The counts at each value come from the
// arm's latency buckets, read at the conservative edge: upper bounds at a bucket's upper edge, lower bounds at
// its lower edge.
//
// Requests still running belong to the sample too (they were sent in the same order): for the lower edge they
// count at their ages so far when known (each will take at least that long) and at the lowest value when not;
// for the upper edge they count as slower than anything. Both only move a bound outwards. Requests whose client
// gave up first (aborts.ts) are treated alike: at their ages for the lower edge, slower than anything for the upper.
//
// Sent-before (the upper edge, when the arm's send times are known: ArmLatencies.sent). Counting every running
// request as slower than anything costs the upper edge much of its power (docs/benchmarks-history.md, sessions 32
// and 33). With send times, the upper edge at a value v is also judged on the requests sent at least v before the
// look: those answered over v were all sent by then, and those of them still running have all run longer than v,
// so their count over v is exact and none is counted as slower than anything. Valid for the same reason as the
// edge above: a bound at v below the true p-quantile q means that in that prefix (in the order sent) the requests
// at or over q were no more than those over v, so few that the confidence sequence of the one stream 1{X >= q}
// (its rate at least 1 - p) shows its rate below 1 - p; with probability at least 1 - alpha it does so at no n
// (Howard & Ramdas 2022, sec. 2). The prefix's n differs with v, and the bound kept is the lowest v of either
// way, which is sound because the sequence holds at every n at once (Howard et al. 2021; sequential.ts): one
// event, not one per v or per n. The figures are used only when they cover the arm's whole sample (not a dead
// run's stage carried over, nor a live proxy short of the arm's whole sample: src/live/live-sent.ts): otherwise
// the conservative count alone, valid without them. Green's upper edge (the p95 ratio's ok side) uses it too, on the
// engine's send times of green or the live proxies' (since session 35), under the same condition.
//
// Running ages (the lower edge). Green's running requests count at their ages (the engine's overdue watch); blue's
// did at the lowest value until session 34, which costs blue's lower edge (the p95 ratio's "ok" side, green's upper
// edge within the limit x blue's lower edge) up to as many ranks as are running. Where blue's send times cover its
// sample (the condition above) their running ages come with them (SentBefore.runningAgesAtMostMs), and count as
// green's do. Sound: each running request's latency is at least its age, and the lower edge only falls when a
// value is replaced by a smaller one (the count at or over each v falls, and the mixture over rates above `share`
// only rises with the count), so an edge reached with the ages is reached with the true latencies too: the edge
// above q still needs the one stream 1{X > q} of the first n sent to show its rate above 1 - p, which with
// probability at least 1 - alpha happens at no n (Howard & Ramdas 2022, sec. 2; their bounds are order statistics
// of the sample, which likewise only fall as any value does). Green's upper edge, the other half of the ok side,
// is judged sent-before where green's send times cover its sample (above), else counts its running requests as slower
// than anything: their ages alone say nothing of how much longer they run.
import {
  BUCKET_GROWTH,
  HIGHEST_MS,
  LOWEST_MS,
  bucketLowerMs,
  bucketOf,
  bucketTotal,
  bucketUpperMs,
  withLatencies,
  type LatencyBuckets,
} from '../metrics/buckets.js';
import { logOneSidedRatio, priorAround, type Prior } from './sequential.js';

export interface ArmLatencies {
  /** Completed requests' latencies. */
  buckets: LatencyBuckets | undefined;
  /** Requests sent and not yet answered. */
  running: number;
  /** The ages (ms) of some of the running requests, when the engine watches them. */
  runningAgesMs?: readonly number[];
  /**
   * Of the completed requests, those whose client went away first (aborts.ts): in the buckets at their ages,
   * a lower bound of their latencies; for the upper edge also counted as slower than anything. That counts
   * each twice there, which only raises the upper edge.
   */
  aborted?: number;
  /** The arm's send times at the look (the engine's, or the live proxies'), for the sent-before upper edge (above). */
  sent?: SentBefore;
}

/** An arm's requests by when they were sent, read at the look (src/engine/arm-sends.ts). */
export interface SentBefore {
  /** The requests of the sample they cover, answered or running: used only when that is the arm's whole sample. */
  requests: number;
  /** Ages (ms) of those still running, or more (a live proxy's are rounded up): each over v only if it is. */
  runningAgesMs: readonly number[];
  /**
   * Ages (ms) of some of those still running, each at most its request's age (exact where the engine times its own
   * sends; none from a live proxy, whose ages are rounded up): lower bounds of their latencies, for the lower edge.
   */
  runningAgesAtMostMs?: readonly number[];
  /**
   * The requests sent at least ageMs before the look; or fewer, exactly those sent before an earlier moment
   * (a prefix in the order sent). Several stages' counts are added up (blue over the rollout so far): each
   * stage's at the same moment for the same age, so that their sum is a prefix too.
   */
  sentAtLeast(ageMs: number): number;
}

export interface QuantileInterval {
  /** The point estimate from the completed requests (a bucket's geometric middle); null before the first. */
  estimate: number | null;
  /** ms; LOWEST_MS when nothing can be said yet. */
  lower: number;
  /** ms; HIGHEST_MS when nothing can be said yet. */
  upper: number;
}

/** One-sided bounds for the p-quantile (0 < p < 1) of an arm's latency, each holding with 1 - alpha at every n. */
export function quantileInterval(arm: ArmLatencies, p: number, alpha: number): QuantileInterval {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const share = 1 - p;
  const prior = priorAround(share);
  const completed = bucketTotal(arm.buckets);
  const n = completed + arm.running;
  if (n === 0) return { estimate: null, lower: LOWEST_MS, upper: HIGHEST_MS };
  const most = mostOverBelow(n, share, alpha, prior);
  const aborted = arm.aborted ?? 0;
  const upper = upperBound(arm.buckets, arm.running + aborted, most);
  const sent = arm.sent;
  const sentCovers = sent !== undefined && sent.requests === n && sent.runningAgesMs.length === arm.running;
  // Blue's running ages come with its send times: used only where those cover the sample (the header: running ages).
  const ages = (arm.runningAgesMs ?? (sentCovers ? sent.runningAgesAtMostMs : undefined) ?? []).slice(0, arm.running);
  return {
    estimate: completed > 0 ? pointQuantile(arm.buckets as LatencyBuckets, p) : null,
    lower: lowerBound(withLatencies(arm.buckets, ages), fewestOverAbove(n, share, alpha, prior)),
    upper: sentCovers ? Math.min(upper, sentBeforeUpper(arm.buckets, aborted, sent, { share, alpha, prior, most })) : upper,
  };
}

/**
 * The most requests over a value (of n) for which the one-sided mixture over rates below `share` (sequential.ts)
 * shows the share over it below `share` at alpha; -1 when even none would not. That mixture only falls as the
 * count rises, so the counts that qualify run from 0 up to a threshold, found by bisection.
 */
export function mostOverBelow(n: number, share: number, alpha: number, prior: Prior): number {
  const bound = Math.log(1 / alpha);
  const excluded = (x: number) => logOneSidedRatio(x, n, share, prior, 'below') >= bound;
  if (!excluded(0)) return -1;
  let lo = 0;
  let top = n;
  while (lo < top) {
    const mid = Math.ceil((lo + top) / 2);
    if (excluded(mid)) lo = mid;
    else top = mid - 1;
  }
  return lo;
}

/**
 * The fewest requests at or over a value (of n) that show the share at or over it above `share` (the mixture over
 * rates above it, which only rises with the count); n + 1 when none.
 */
export function fewestOverAbove(n: number, share: number, alpha: number, prior: Prior): number {
  const bound = Math.log(1 / alpha);
  const excluded = (x: number) => logOneSidedRatio(x, n, share, prior, 'above') >= bound;
  if (!excluded(n)) return n + 1;
  let bottom = 0;
  let hi = n;
  while (bottom < hi) {
    const mid = Math.floor((bottom + hi) / 2);
    if (excluded(mid)) hi = mid;
    else bottom = mid + 1;
  }
  return hi;
}

/** The lowest bucket upper edge with at most `maxOver` requests above it (running ones count as above all). */
function upperBound(buckets: LatencyBuckets | undefined, running: number, maxOver: number): number {
  if (maxOver < running) return HIGHEST_MS;
  let above = running;
  let bound = HIGHEST_MS;
  const counts = buckets?.counts ?? [];
  for (let k = counts.length - 1; k >= 0; k--) {
    if (above > maxOver) break;
    bound = Math.min(HIGHEST_MS, bucketUpperMs((buckets as LatencyBuckets).first + k));
    above += counts[k] as number;
  }
  return bound;
}

/**
 * The lowest bucket upper edge v whose requests sent at least v before the look show fewer than `share` over v
 * (see the header: sent-before); HIGHEST_MS when none. Requests whose client gave up count as over every v. From
 * the top down, stopping once more are over v than `most` (the most over allowed of the whole sample): a prefix is
 * no larger, and the most allowed only falls with n (the mixture over rates below `share` rises with n at a fixed
 * count), so no lower v could qualify. One mixture value per edge passed, a few dozen a look.
 */
function sentBeforeUpper(
  buckets: LatencyBuckets | undefined,
  aborted: number,
  sent: SentBefore,
  test: { share: number; alpha: number; prior: Prior; most: number },
): number {
  const bound = Math.log(1 / test.alpha);
  const ages = [...sent.runningAgesMs].sort((a, b) => b - a);
  const first = buckets?.first ?? 0;
  const counts = buckets?.counts ?? [];
  const oldest = ages[0];
  const top = Math.max(first + counts.length - 1, oldest === undefined ? -Infinity : bucketOf(oldest));
  let answeredOver = aborted;
  let runningOver = 0;
  let best = HIGHEST_MS;
  for (let index = top; index >= first; index--) {
    const v = bucketUpperMs(index);
    // Still running at an age of v or more: over v (a request answered at exactly its age is counted over too).
    while (runningOver < ages.length && (ages[runningOver] as number) >= v) runningOver++;
    const over = answeredOver + runningOver;
    if (over > test.most) break;
    const n = sent.sentAtLeast(v);
    if (over <= n && logOneSidedRatio(over, n, test.share, test.prior, 'below') >= bound) best = Math.min(HIGHEST_MS, v);
    answeredOver += counts[index - first] ?? 0;
  }
  return best;
}

/** The highest bucket lower edge with at least `minOver` requests at or above it. */
function lowerBound(buckets: LatencyBuckets | undefined, minOver: number): number {
  let atOrAbove = 0;
  const counts = buckets?.counts ?? [];
  for (let k = counts.length - 1; k >= 0; k--) {
    atOrAbove += counts[k] as number;
    if (atOrAbove >= minOver) return Math.max(LOWEST_MS, bucketLowerMs((buckets as LatencyBuckets).first + k));
  }
  return LOWEST_MS;
}

/** The p-quantile of the completed requests: the geometric middle of the bucket holding rank ceil(p x n). */
export function pointQuantile(buckets: LatencyBuckets, p: number): number {
  const total = bucketTotal(buckets);
  const exact = p * total;
  const rank = Math.max(1, Math.ceil(exact - exact * 1e-12));
  let seen = 0;
  for (let k = 0; k < buckets.counts.length; k++) {
    seen += buckets.counts[k] as number;
    if (seen >= rank) return Math.min(HIGHEST_MS, Math.max(LOWEST_MS, bucketUpperMs(buckets.first + k) / Math.sqrt(BUCKET_GROWTH)));
  }
  return HIGHEST_MS;
}
