// A dead run's figures, read back from its state.json for `rollout --resume`: the resumed stage's tests go on
// from its counts rather than starting over (see docs/plan.md, "The false-rollback budget"). state.json is
// checked loosely on read, so every count is taken only when it is a whole number >= 0; anything else is 0. The
// latency and ttft histograms, saved beside the counts, carry the percentiles too.
import type { JsHistogram } from 'hdr-histogram-js';
import { bucketOf, HIGHEST_MS, LOWEST_MS, type LatencyBuckets } from './buckets.js';
import { readSavedHistogram } from './saved-histogram.js';
import type { ArmStats, Percentiles } from './types.js';

/** The counts of a saved stage x arm that a resumed run adds to its own. */
export interface CarriedCounts {
  requests: number;
  successes: number;
  failures: number;
  retries: number;
  dropped: number;
  qualityFailures: number;
  neutral: number;
  promptTokens: number;
  completionTokens: number;
  refusals: number;
  toolCalls: number;
  estimatedUsage: number;
  failuresByClass: Record<string, number>;
  abortsPastClientCap: number;
  failureSamples: Record<string, string>;
  /** Exceedances per latency and ttft limit (ms, as keyed in ArmStats.slow). */
  slow: { latency: Record<string, number>; ttft: Record<string, number> };
  /** Failed streams, and those of them whose first token may have come after each ttft limit (ArmStats.failedStreams). */
  failedStreams: { requests: number; unknown: Record<string, number> };
  /** Requests that never answer (ArmStats.lost): those the dead run carried, and its own still running then. */
  lost: number;
  /** The crashes `lost` came from (ArmStats.lostCrashes). */
  lostCrashes: number;
  /** Of `lost`, the streamed ones and those not known not to be (ArmStats.lostStreamed): all when state.json does not say. */
  lostStreamed: number;
  /** The saved percentiles: their count, mean and max hold after a resume, their p50/p95/p99 with their histogram. */
  latency: Percentiles | null;
  ttft: Percentiles | null;
  /** The saved histograms, when state.json has them (older ones do not) and they hold the saved counts. */
  histograms: { latency?: JsHistogram; ttft?: JsHistogram };
  /** What was left out and what that means ("latency histogram: ...: left out, so its percentiles cover ..."). */
  unreadable: string[];
  latencyBuckets?: LatencyBuckets;
}

/** What a saved arm's lost requests are bounded by; each unbounded when unset. */
export interface CarryBounds {
  /**
   * The most requests of its own a run can have had in flight at a crash, both arms together: the plan's
   * traffic.max_in_flight, or 0 for a live plan that generates no traffic (all its requests are the proxies').
   */
  maxInFlight?: number;
  /**
   * The runs of the rollout the journal shows (its rollout_started lines): the most crashes the saved `lost` can
   * have come from. Without it a forged huge `lost` with a huge `lostCrashes` passed the max_in_flight bound.
   */
  runs?: number;
}

/** The counts in a saved ArmStats (from state.json, so possibly hand-edited or partial), within `bounds`. */
export function carriedCounts(saved: Partial<ArmStats> | undefined, bounds: CarryBounds = {}): CarriedCounts {
  const { maxInFlight = Infinity, runs = Infinity } = bounds;
  const s = saved ?? {};
  // The proxies' requests (live traffic) are left out: the proxies go on serving them, and no send order places
  // them in the test. A state.json from before lostCrashes has its lost from one crash.
  const atCrash = Math.max(0, whole(s.inFlight) - whole(s.atProxies));
  const lostBefore = whole(s.lost);
  const crashesBefore = lostBefore > 0 ? Math.max(1, whole(s.lostCrashes)) : 0;
  const counts: CarriedCounts = {
    requests: whole(s.requests),
    successes: whole(s.successes),
    failures: whole(s.failures),
    retries: whole(s.retries),
    dropped: whole(s.dropped),
    qualityFailures: whole(s.qualityFailures),
    neutral: whole(s.neutral),
    promptTokens: whole(s.tokens?.prompt),
    completionTokens: whole(s.tokens?.completion),
    refusals: whole(s.shapes?.refusals),
    toolCalls: whole(s.shapes?.toolCalls),
    estimatedUsage: whole(s.shapes?.estimatedUsage),
    failuresByClass: wholes(s.failuresByClass),
    abortsPastClientCap: whole(s.abortsPastClientCap),
    failureSamples: texts(s.failureSamples),
    slow: { latency: wholes(s.slow?.latency), ttft: wholes(s.slow?.ttft) },
    failedStreams: { requests: whole(s.failedStreams?.requests), unknown: wholes(s.failedStreams?.unknown) },
    lost: lostBefore + atCrash,
    lostStreamed: lostStreamed(s, atCrash),
    lostCrashes: crashesBefore + (atCrash > 0 ? 1 : 0),
    latency: percentiles(s.latency),
    ttft: percentiles(s.ttft),
    histograms: {},
    unreadable: [],
  };
  for (const kind of ['latency', 'ttft'] as const) {
    const text: unknown = (s.histograms as Record<string, unknown> | undefined)?.[kind];
    const saved = counts[kind];
    if (text === undefined || saved === null) continue;
    const histogram = readSavedHistogram(text, saved.count);
    if (typeof histogram === 'string') counts.unreadable.push(`${kind} histogram: ${histogram}: left out, so its percentiles cover this run's requests only`);
    else counts.histograms[kind] = histogram;
  }
  const buckets = latencyBuckets(s.latencyBuckets);
  if (buckets) counts.latencyBuckets = buckets;
  const contradiction = contradictions(counts) ?? pastMaxInFlight(atCrash, lostBefore, crashesBefore, maxInFlight) ?? pastRuns(crashesBefore, runs);
  if (contradiction === undefined) return counts;
  // Counts no run could have written (an edited or corrupt state.json) would make the tests judge more
  // failures than requests: none of them is carried, and the arm's tests start again on this run's requests.
  return { ...carriedCounts(undefined), unreadable: [`counts: ${contradiction}: left out, so its tests start again on this run's requests`] };
}

/** Why a saved arm's counts cannot all be true at once, or undefined when they can. */
function contradictions(c: CarriedCounts): string | undefined {
  if (c.successes + c.failures > c.requests) return `${c.successes} successes and ${c.failures} failures in ${c.requests} requests`;
  if (c.qualityFailures > c.successes) return `${c.qualityFailures} quality failures in ${c.successes} successes`;
  // Each failure has at most one class, and only client aborts pass a client's cap: the rules subtract both
  // from the failures (error_rate, the comparisons), so more of them would be a negative count of failures.
  const classed = Object.values(c.failuresByClass).reduce((sum, count) => sum + count, 0);
  if (classed > c.failures) return `${classed} failures by class in ${c.failures} failures`;
  const aborts = c.failuresByClass.client_abort ?? 0;
  if (c.abortsPastClientCap > aborts) return `${c.abortsPastClientCap} client aborts past the cap in ${aborts} client aborts`;
  for (const [limit, count] of Object.entries(c.slow.latency)) if (count > c.requests) return `${count} requests over ${limit} ms in ${c.requests}`;
  // A failed stream cut after its first token counts by it too (ArmRecorder.countFailedStream).
  const failedStreams = c.failedStreams.requests;
  const streamed = (c.ttft?.count ?? 0) + failedStreams;
  for (const [limit, count] of Object.entries(c.slow.ttft))
    if (count > streamed) return `${count} first tokens after ${limit} ms in ${streamed} streamed requests`;
  if (failedStreams > c.failures) return `${failedStreams} failed streams in ${c.failures} failures`;
  for (const [limit, count] of Object.entries(c.failedStreams.unknown))
    if (count > failedStreams) return `${count} failed streams ended after ${limit} ms in ${failedStreams}`;
  return undefined;
}

/**
 * Why the requests a saved arm had in flight at its crash, or lost at the crashes before, are more than any run
 * could have had running, or undefined. Unbounded, an edited or corrupt figure would be counted as outcomes
 * unknown for good and keep the stage's tests from deciding for the rest of it.
 */
function pastMaxInFlight(atCrash: number, lostBefore: number, crashesBefore: number, maxInFlight: number): string | undefined {
  if (maxInFlight === 0 && atCrash + lostBefore > 0) {
    const count = atCrash > 0 ? `${atCrash} requests of its own in flight at the crash` : `${lostBefore} requests of its own lost at crashes`;
    return `${count}, but the plan generates no traffic (the proxies' are counted apart)`;
  }
  if (atCrash > maxInFlight) return `${atCrash} requests in flight at the crash, more than max_in_flight (${maxInFlight})`;
  if (lostBefore > maxInFlight * crashesBefore)
    return `${lostBefore} requests lost at ${crashesBefore} crash${crashesBefore === 1 ? '' : 'es'}, more than max_in_flight (${maxInFlight}) a crash`;
  return undefined;
}

/**
 * Why the crashes a saved arm's lost requests came from are more than the runs the journal shows, or undefined. Each
 * crash with saved counts was a run that had begun its journal: a forged `lostCrashes` that large is not one. The
 * saved crashes are those before the run that saved them, so at most `runs - 1`; one more is let pass for a run whose
 * rollout_started line could not be written (a full disk that was freed then: a journal failure does not stop a
 * run, EventLog.publish), which would otherwise have its honest counts dropped. A torn line needs no such slack: an
 * append is whole or absent (appendWholeSync), and a run killed mid-append saved no counts after it.
 */
function pastRuns(crashesBefore: number, runs: number): string | undefined {
  if (crashesBefore <= runs) return undefined;
  return `requests lost at ${crashesBefore} crashes, but the journal shows ${runs} run${runs === 1 ? '' : 's'} of this rollout`;
}

/**
 * Percentiles of the requests since a resume, with the dead run's counted in when its histogram was not saved
 * (an older state.json, or one unreadable): count, mean and max are exact over both; p50/p95/p99 are the new
 * requests' own, or the saved ones until a new request answers.
 */
export function withCarried(live: Percentiles | null, carried: Percentiles | null): Percentiles | null {
  if (!carried || carried.count === 0) return live;
  if (!live) return { ...carried };
  const count = live.count + carried.count;
  return { ...live, count, max: Math.max(live.max, carried.max), mean: (live.mean * live.count + carried.mean * carried.count) / count };
}

/**
 * How many of the lost requests may have streamed: those the saved arm says, and of its own in flight no more than its
 * streamed in flight (which counts the proxies' too); where state.json does not say (absent, or not a count), all.
 */
function lostStreamed(s: Partial<ArmStats>, own: number): number {
  const lost = whole(s.lost);
  const carried = whole(s.lostStreamed) === s.lostStreamed ? Math.min(s.lostStreamed, lost) : lost;
  const streamed = whole(s.streamedInFlight) === s.streamedInFlight ? Math.min(s.streamedInFlight, own) : own;
  return carried + streamed;
}

function whole(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

function wholes(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, count] of Object.entries(value)) if (whole(count) > 0) out[key] = count as number;
  return out;
}

function texts(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, text] of Object.entries(value)) if (typeof text === 'string') out[key] = text;
  return out;
}

function percentiles(value: unknown): Percentiles | null {
  if (typeof value !== 'object' || value === null) return null;
  const p = value as Record<string, unknown>;
  const fields = ['p50', 'p95', 'p99', 'max', 'mean'] as const;
  if (whole(p.count) === 0 || !fields.every((key) => typeof p[key] === 'number' && Number.isFinite(p[key]) && p[key] >= 0)) return null;
  return { p50: p.p50 as number, p95: p.p95 as number, p99: p.p99 as number, max: p.max as number, mean: p.mean as number, count: p.count as number };
}

function latencyBuckets(value: unknown): LatencyBuckets | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { first, counts } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(first) || !Array.isArray(counts) || !counts.every((count) => whole(count) === count)) return undefined;
  // Only buckets a latency can fall in: one far off would have the counter fill the gap to it (an edited file).
  if ((first as number) < bucketOf(LOWEST_MS) || (first as number) + counts.length - 1 > bucketOf(HIGHEST_MS)) return undefined;
  return { first: first as number, counts: [...(counts as number[])] };
}
