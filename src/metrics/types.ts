// Plain, serialisable figures: what the recorder exposes, what state.json and reports hold.
import type { CheckResult } from '../analysis/types.js';
import type { ArmName } from '../plan/plan.js';
import type { FailureClass, RateLimitInfo } from '../upstream/types.js';
import { mergeBuckets, type LatencyBuckets } from './buckets.js';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  count: number;
}

export interface ArmStats {
  /** Completed requests: successes + failures. */
  requests: number;
  successes: number;
  failures: number;
  failuresByClass: Partial<Record<FailureClass, number>>;
  /** Extra attempts beyond the first; counted apart from failures. */
  retries: number;
  /** Requests not sent because max_in_flight was reached. */
  dropped: number;
  inFlight: number;
  /**
   * Of `inFlight`, the requests the proxies serve (live traffic) as their last read said, when there are any: a
   * figure as old as that read, where the rest (this rollout's own requests) is counted as they go.
   */
  atProxies?: number;
  /**
   * Requests a dead run had in flight (its own, not the proxies') at its last state.json write, carried by
   * rollout --resume: they died with it and never answer, so the rate rules count them as outcomes unknown for
   * good, as they count requests still running. Absent when none (and in state.json files from before).
   */
  lost?: number;
  /**
   * The crashes `lost` came from, when it is more than none: each carried at most max_in_flight, so a resume
   * refuses a `lost` larger than that many times it (an edited or corrupt state.json). Absent in older files: one.
   */
  lostCrashes?: number;
  /**
   * Of `inFlight`, the streamed requests and those not known not to be (a proxy before session 29 does not say):
   * ttft_p95 counts only these as outcomes unknown, a request that does not stream having no first token to judge.
   * Absent when all of them are (and in state.json files from before): every request in flight counts.
   */
  streamedInFlight?: number;
  /** Of `lost`, the streamed ones and those not known not to be, as `streamedInFlight` is of `inFlight`; absent when all. */
  lostStreamed?: number;
  /** Successful responses that failed a quality check. */
  qualityFailures: number;
  /**
   * Neutral results (UpstreamResult.neutral), when there were any: counted here alone, in no request, failure,
   * latency, TTFT, token, quality or streak figure, so no rule judges them (docs/proxy.md, "Neutral results").
   */
  neutral?: number;
  /** Failures (errors or quality) in a row, most recent last; reset by a clean success. */
  consecutiveFailures: number;
  /** Latency in ms over completed requests; null before the first. */
  latency: Percentiles | null;
  /** Time to first token in ms over streamed successes; null before the first. */
  ttft: Percentiles | null;
  tokens: { prompt: number; completion: number };
  costUsd: number;
  rateLimit?: RateLimitInfo;
  /**
   * Successful answers of note, when there were any: refusals, answers that called tools, and answers whose
   * token counts were estimated (the upstream reported none, so tokens and cost are approximate).
   */
  shapes?: { refusals: number; toolCalls: number; estimatedUsage: number };
  /**
   * Completed requests slower than each latency limit the plan judges (keyed by the limit in ms), and streamed
   * requests whose first token came later than each ttft limit (successes, and failed streams cut after their
   * first token): the counts the latency rules judge as rates.
   */
  slow?: { latency: Record<string, number>; ttft: Record<string, number> };
  /**
   * Streamed requests that failed, when the plan judges ttft, and of them those with no first token that ended
   * after each ttft limit or were given up by their clients: ttft_p95 counts them among its streamed requests, one
   * cut after its first token by it (in `slow`), one without ended in time as within the limit, the others as
   * outcomes unknown. Their first tokens are not in `ttft`'s percentiles (successes only).
   */
  failedStreams?: { requests: number; unknown: Record<string, number> };
  /**
   * Client aborts past ABORTS_PER_CLIENT of one sticky client in this stage (src/analysis/aborts.ts): left out of
   * the comparisons with blue and the built-in guard. Absent when none.
   */
  abortsPastClientCap?: number;
  /** The first upstream message seen per failure class (one sentence, no secrets), to say why requests failed. */
  failureSamples?: Partial<Record<FailureClass, string>>;
  /**
   * Completed requests' latencies in log-spaced buckets (see buckets.ts), when the plan judges the p95 ratio to
   * blue: the rule needs ranks of both arms' distributions, and blue's are added up over stages.
   */
  latencyBuckets?: LatencyBuckets;
  /**
   * The latency and ttft histograms (HdrHistogram compressed base64, see saved-histogram.ts), in state.json only:
   * a resumed run's percentiles go on from them. Absent from the figures the judge, reporters and reports read.
   */
  histograms?: { latency?: string; ttft?: string };
}

/** Latency limits (ms) whose exceedances the recorder counts per arm: see ArmStats.slow. */
export interface SlowLimits {
  latency: readonly number[];
  ttft: readonly number[];
}

/** Live figures over the last few seconds, per arm. */
export interface WindowStats {
  seconds: number;
  requestsPerSecond: number;
  errorRate: number;
  latencyP95: number | null;
}

export type StageVerdict = 'pending' | 'running' | 'passed' | 'failed' | 'aborted' | 'skipped';

export interface StageStats {
  index: number;
  name?: string;
  greenWeight: number;
  durationMs: number;
  startedAt?: number;
  endedAt?: number;
  verdict: StageVerdict;
  arms: Record<ArmName, ArmStats>;
  /**
   * The engine's judgement that decided the stage: its checks when it passed, or when one of them breached.
   * Requests in flight at that moment may answer later and still be added to `arms`, so reports show these
   * rather than judge the final figures again. Absent for a stage no check decided (running, skipped, or ended
   * by an abort, a signal, a hook or an unreachable proxy).
   */
  checks?: CheckResult[];
  /**
   * Results recorded after the stage passed (requests that outlived its end's wait), in `arms` too: the stage is
   * judged again on them at the rollout's next judgement. Absent when none.
   */
  late?: number;
}

export function emptyArmStats(): ArmStats {
  return {
    requests: 0,
    successes: 0,
    failures: 0,
    failuresByClass: {},
    retries: 0,
    dropped: 0,
    inFlight: 0,
    qualityFailures: 0,
    consecutiveFailures: 0,
    latency: null,
    ttft: null,
    tokens: { prompt: 0, completion: 0 },
    costUsd: 0,
  };
}

/**
 * The counts of several stages' figures for one arm added up (requests, outcomes, failure classes, requests in
 * flight, latency buckets): blue's baseline over the rollout so far, which the comparisons with blue judge
 * against in a stage at 100% green (the others judge against the stage's own blue). Percentiles, tokens and cost are not summed; the streak is the latest stage's.
 */
export function sumArmCounts(stats: readonly ArmStats[]): ArmStats {
  const total = emptyArmStats();
  let streamed = 0;
  let lostStreamed = 0;
  for (const arm of stats) {
    total.requests += arm.requests;
    total.successes += arm.successes;
    total.failures += arm.failures;
    total.qualityFailures += arm.qualityFailures;
    total.inFlight += arm.inFlight;
    if (arm.atProxies) total.atProxies = (total.atProxies ?? 0) + arm.atProxies;
    if (arm.lost) total.lost = (total.lost ?? 0) + arm.lost;
    streamed += arm.streamedInFlight ?? arm.inFlight;
    lostStreamed += arm.lostStreamed ?? arm.lost ?? 0;
    total.consecutiveFailures = arm.consecutiveFailures;
    if (arm.neutral) total.neutral = (total.neutral ?? 0) + arm.neutral;
    if (arm.abortsPastClientCap) total.abortsPastClientCap = (total.abortsPastClientCap ?? 0) + arm.abortsPastClientCap;
    for (const [name, count] of Object.entries(arm.failuresByClass) as [FailureClass, number][])
      total.failuresByClass[name] = (total.failuresByClass[name] ?? 0) + count;
    if (arm.failureSamples) total.failureSamples = { ...arm.failureSamples, ...total.failureSamples };
  }
  if (streamed < total.inFlight) total.streamedInFlight = streamed;
  if (lostStreamed < (total.lost ?? 0)) total.lostStreamed = lostStreamed;
  const buckets = mergeBuckets(stats.map((arm) => arm.latencyBuckets));
  if (buckets) total.latencyBuckets = buckets;
  return total;
}
