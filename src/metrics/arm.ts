// Mutable counters for one stage x arm. Recording is O(1); snapshot() builds the plain ArmStats copy.
import { ABORTS_PER_CLIENT } from '../analysis/aborts.js';
import type { Price } from '../plan/schema.js';
import type { FailureClass, RateLimitInfo, UpstreamResult } from '../upstream/types.js';
import { BucketCounter } from './buckets.js';
import { withCarried, type CarriedCounts } from './carry.js';
import { LatencyHistogram } from './histogram.js';
import type { ArmStats, Percentiles, SlowLimits } from './types.js';

const SAMPLE_CHARS = 200;
/** The plain counters copy() takes over as they are. */
const COUNTERS = [
  'requests',
  'successes',
  'failures',
  'retries',
  'dropped',
  'inFlight',
  'streamedInFlight',
  'atProxies',
  'streamedAtProxies',
  'lost',
  'lostCrashes',
  'lostStreamed',
  'qualityFailures',
  'neutral',
  'consecutiveFailures',
  'promptTokens',
  'completionTokens',
  'refusals',
  'toolCalls',
  'estimatedUsage',
] as const;

export class ArmRecorder {
  requests = 0;
  successes = 0;
  failures = 0;
  retries = 0;
  dropped = 0;
  inFlight = 0;
  /** Of inFlight, the streamed ones: ttft_p95 counts only those as its outcomes unknown (ArmStats.streamedInFlight). */
  streamedInFlight = 0;
  /** Live traffic: requests the proxies serve and have not answered yet, as their last read said (in inFlight). */
  atProxies = 0;
  /** Of atProxies, those streamed or not known not to be (a proxy that does not say counts all of its own). */
  streamedAtProxies = 0;
  /** A dead run's requests that never answer (ArmStats.lost). */
  lost = 0;
  /** The crashes `lost` came from (ArmStats.lostCrashes). */
  lostCrashes = 0;
  /** Of lost, those streamed or not known not to be (ArmStats.lostStreamed). */
  lostStreamed = 0;
  qualityFailures = 0;
  /** Neutral results (UpstreamResult.neutral): counted apart, judged by no rule. */
  neutral = 0;
  /** Set by the recorder, which keeps the arm's streak across stages. */
  consecutiveFailures = 0;
  promptTokens = 0;
  completionTokens = 0;
  /** Answer shapes worth judging apart (see ArmStats.shapes). */
  refusals = 0;
  toolCalls = 0;
  estimatedUsage = 0;
  private readonly failuresByClass: Partial<Record<FailureClass, number>> = {};
  /** Client aborts per sticky client in this stage, and those past the cap (src/analysis/aborts.ts). */
  private abortsByClient?: Map<string, number>;
  private abortsPastClientCap = 0;
  // Created on first use: stages never reached, and arms at weight 0, cost no histogram memory.
  private latency?: LatencyHistogram;
  private ttft?: LatencyHistogram;
  private rateLimit?: RateLimitInfo;
  private readonly slowLatency: number[];
  private readonly slowTtft: number[];
  /** Failed streams, and those of them ended after each ttft limit or given up (ArmStats.failedStreams). */
  private failedStreams = 0;
  private readonly failedStreamsUnknown: number[];
  private readonly failureSamples: Partial<Record<FailureClass, string>> = {};
  /** Kept only when a rule needs ranks of the latency distribution (the p95 ratio to blue). */
  private readonly buckets?: BucketCounter;
  /** A dead run's percentiles (rollout --resume), counted into the snapshot's count, mean and max. */
  private carriedLatency: Percentiles | null = null;
  private carriedTtft: Percentiles | null = null;

  constructor(
    private readonly price: Price | undefined,
    private readonly slowLimits: SlowLimits = { latency: [], ttft: [] },
    keepBuckets = false,
  ) {
    if (keepBuckets) this.buckets = new BucketCounter();
    this.slowLatency = slowLimits.latency.map(() => 0);
    this.slowTtft = slowLimits.ttft.map(() => 0);
    this.failedStreamsUnknown = slowLimits.ttft.map(() => 0);
  }

  dispatched(stream: boolean): void {
    this.inFlight++;
    if (stream) this.streamedInFlight++;
  }

  /** A request the rollout itself cancelled (its ending): no longer running, and says nothing about the upstream. */
  cancelled(stream: boolean): void {
    if (this.inFlight > 0) this.inFlight--;
    if (stream && this.streamedInFlight > 0) this.streamedInFlight--;
  }

  /** `sentStream`: whether the request was counted as streamed when sent (dispatched), which its result may not echo. */
  record(result: UpstreamResult, qualityFailed: boolean, sentStream = result.stream): void {
    // Guarded: a result recorded without a matching dispatch must not drive the gauge negative.
    if (this.inFlight > 0) this.inFlight--;
    if (sentStream && this.streamedInFlight > 0) this.streamedInFlight--;
    // No longer in flight, and in no other figure: a client picking its arm could steer any one it stayed in.
    if (result.neutral) {
      this.neutral++;
      return;
    }
    this.requests++;
    if (result.ok) {
      this.successes++;
      if (qualityFailed) this.qualityFailures++;
      if (result.stream && result.ttftMs !== undefined) {
        (this.ttft ??= new LatencyHistogram()).record(result.ttftMs);
        countOver(this.slowLimits.ttft, this.slowTtft, result.ttftMs);
      }
      if (result.refusal) this.refusals++;
      if (result.toolCalls) this.toolCalls++;
      if (result.usage?.estimated) this.estimatedUsage++;
    } else {
      this.failures++;
      if (result.stream && this.slowLimits.ttft.length > 0) this.countFailedStream(result);
      if (result.client !== undefined && result.failure === 'client_abort') this.countAbort(result.client);
      if (result.failure !== undefined) {
        this.failuresByClass[result.failure] = (this.failuresByClass[result.failure] ?? 0) + 1;
        if (this.failureSamples[result.failure] === undefined && result.errorMessage)
          this.failureSamples[result.failure] = result.errorMessage.slice(0, SAMPLE_CHARS);
      }
    }
    countOver(this.slowLimits.latency, this.slowLatency, result.latencyMs);
    if (result.attempts > 1) this.retries += result.attempts - 1;
    (this.latency ??= new LatencyHistogram()).record(result.latencyMs);
    this.buckets?.record(result.latencyMs);
    const usage = result.usage;
    if (usage) {
      // `> 0` also refuses NaN, which would poison the totals (and the cost) for good.
      if (usage.promptTokens > 0) this.promptTokens += usage.promptTokens;
      if (usage.completionTokens > 0) this.completionTokens += usage.completionTokens;
    }
    if (result.rateLimit) this.rateLimit = result.rateLimit;
  }

  /**
   * A failed stream for ttft_p95: one cut after its first token counts by it (over a limit in the slow counts);
   * without one, given up by its client or ended after a limit, it may have had its first token after it.
   */
  private countFailedStream(result: UpstreamResult): void {
    this.failedStreams++;
    if (result.ttftMs !== undefined) countOver(this.slowLimits.ttft, this.slowTtft, result.ttftMs);
    else if (result.failure === 'client_abort')
      this.slowLimits.ttft.forEach((_, i) => (this.failedStreamsUnknown[i] = (this.failedStreamsUnknown[i] as number) + 1));
    else countOver(this.slowLimits.ttft, this.failedStreamsUnknown, result.latencyMs);
  }

  private countAbort(client: string): void {
    const byClient = (this.abortsByClient ??= new Map<string, number>());
    const count = (byClient.get(client) ?? 0) + 1;
    byClient.set(client, count);
    if (count > ABORTS_PER_CLIENT) this.abortsPastClientCap++;
  }

  /**
   * Adds a dead run's figures for this stage x arm (rollout --resume): counts, and the tests judged on them, go
   * on from where its state.json left them. Its requests in flight died with it: they stay in the tests, in send
   * order, as outcomes never known (`lost`), so the sample does not lose the slow ones (see docs/plan.md).
   */
  carry(saved: CarriedCounts): void {
    this.requests += saved.requests;
    this.successes += saved.successes;
    this.failures += saved.failures;
    this.retries += saved.retries;
    this.dropped += saved.dropped;
    this.qualityFailures += saved.qualityFailures;
    this.neutral += saved.neutral;
    this.promptTokens += saved.promptTokens;
    this.completionTokens += saved.completionTokens;
    this.refusals += saved.refusals;
    this.toolCalls += saved.toolCalls;
    this.estimatedUsage += saved.estimatedUsage;
    this.lost += saved.lost;
    this.lostCrashes += saved.lostCrashes;
    this.lostStreamed += saved.lostStreamed;
    // Which clients they came from is not saved: a resumed stage counts each client's next aborts afresh.
    this.abortsPastClientCap += saved.abortsPastClientCap;
    for (const [name, count] of Object.entries(saved.failuresByClass) as [FailureClass, number][])
      this.failuresByClass[name] = (this.failuresByClass[name] ?? 0) + count;
    for (const [name, text] of Object.entries(saved.failureSamples) as [FailureClass, string][]) this.failureSamples[name] ??= text;
    addByLimit(this.slowLimits.latency, this.slowLatency, saved.slow.latency);
    addByLimit(this.slowLimits.ttft, this.slowTtft, saved.slow.ttft);
    this.failedStreams += saved.failedStreams.requests;
    addByLimit(this.slowLimits.ttft, this.failedStreamsUnknown, saved.failedStreams.unknown);
    this.buckets?.add(saved.latencyBuckets);
    // With its histogram a dead run's requests count in the percentiles as if recorded here; without (an older
    // state.json), in the count, mean and max only.
    const { latency, ttft } = saved.histograms;
    if (latency && saved.latency) (this.latency ??= new LatencyHistogram()).addSaved(latency, saved.latency);
    else this.carriedLatency = withCarried(saved.latency, this.carriedLatency);
    if (ttft && saved.ttft) (this.ttft ??= new LatencyHistogram()).addSaved(ttft, saved.ttft);
    else this.carriedTtft = withCarried(saved.ttft, this.carriedTtft);
  }

  /**
   * An independent copy of the arm as it stands: a stage's requests sent before its time was up, which the copy goes
   * on recording the answers of while the stage's end waits for them (MetricsRecorder.cut).
   */
  copy(): ArmRecorder {
    const twin = new ArmRecorder(this.price, this.slowLimits, this.buckets !== undefined);
    for (const key of COUNTERS) twin[key] = this[key];
    Object.assign(twin.failuresByClass, this.failuresByClass);
    Object.assign(twin.failureSamples, this.failureSamples);
    if (this.abortsByClient) twin.abortsByClient = new Map(this.abortsByClient);
    twin.abortsPastClientCap = this.abortsPastClientCap;
    twin.latency = this.latency?.copy();
    twin.ttft = this.ttft?.copy();
    if (this.rateLimit) twin.rateLimit = { ...this.rateLimit };
    twin.slowLatency.splice(0, Infinity, ...this.slowLatency);
    twin.slowTtft.splice(0, Infinity, ...this.slowTtft);
    twin.failedStreams = this.failedStreams;
    twin.failedStreamsUnknown.splice(0, Infinity, ...this.failedStreamsUnknown);
    twin.buckets?.add(this.buckets?.snapshot());
    twin.carriedLatency = this.carriedLatency;
    twin.carriedTtft = this.carriedTtft;
    return twin;
  }

  /**
   * The histograms for state.json: only those holding every request the percentiles count (none carried by count
   * alone), so a second resume reads them back whole.
   */
  private histograms(): ArmStats['histograms'] {
    const latency = this.carriedLatency ? undefined : this.latency?.encoded();
    const ttft = this.carriedTtft ? undefined : this.ttft?.encoded();
    if (latency === undefined && ttft === undefined) return undefined;
    return { ...(latency !== undefined && { latency }), ...(ttft !== undefined && { ttft }) };
  }

  /** Latency percentiles counting requests still running at their current ages (see LatencyHistogram). */
  latencyWithRunning(runningAgesMs: readonly number[]): Percentiles | null {
    if (runningAgesMs.length === 0) return this.latency?.percentiles() ?? null;
    return (this.latency ??= new LatencyHistogram()).percentilesWithRunning(runningAgesMs);
  }

  /** The arm's figures; `withHistograms` for state.json (see ArmStats.histograms). */
  snapshot(withHistograms = false): ArmStats {
    const stats: ArmStats = {
      requests: this.requests,
      successes: this.successes,
      failures: this.failures,
      failuresByClass: { ...this.failuresByClass },
      retries: this.retries,
      dropped: this.dropped,
      inFlight: this.inFlight + this.atProxies,
      qualityFailures: this.qualityFailures,
      consecutiveFailures: this.consecutiveFailures,
      latency: withCarried(this.latency?.percentiles() ?? null, this.carriedLatency),
      ttft: withCarried(this.ttft?.percentiles() ?? null, this.carriedTtft),
      tokens: { prompt: this.promptTokens, completion: this.completionTokens },
      costUsd: costUsd(this.price, this.promptTokens, this.completionTokens),
    };
    if (this.atProxies > 0) stats.atProxies = this.atProxies;
    if (this.lost > 0) Object.assign(stats, { lost: this.lost, lostCrashes: this.lostCrashes });
    // Only when fewer: absent, ttft_p95 counts every request in flight (or lost) as a stream's outcome unknown.
    const streamed = this.streamedInFlight + this.streamedAtProxies;
    if (streamed < stats.inFlight) stats.streamedInFlight = streamed;
    if (this.lostStreamed < this.lost) stats.lostStreamed = this.lostStreamed;
    if (this.rateLimit) stats.rateLimit = { ...this.rateLimit };
    if (this.refusals + this.toolCalls + this.estimatedUsage > 0) {
      stats.shapes = { refusals: this.refusals, toolCalls: this.toolCalls, estimatedUsage: this.estimatedUsage };
    }
    if (this.slowLatency.length + this.slowTtft.length > 0) {
      stats.slow = { latency: byLimit(this.slowLimits.latency, this.slowLatency), ttft: byLimit(this.slowLimits.ttft, this.slowTtft) };
    }
    if (this.slowTtft.length > 0) stats.failedStreams = { requests: this.failedStreams, unknown: byLimit(this.slowLimits.ttft, this.failedStreamsUnknown) };
    if (this.neutral > 0) stats.neutral = this.neutral;
    if (this.abortsPastClientCap > 0) stats.abortsPastClientCap = this.abortsPastClientCap;
    if (Object.keys(this.failureSamples).length > 0) stats.failureSamples = { ...this.failureSamples };
    const buckets = this.buckets?.snapshot();
    if (buckets) stats.latencyBuckets = buckets;
    const histograms = withHistograms ? this.histograms() : undefined;
    if (histograms) stats.histograms = histograms;
    return stats;
  }
}

/** Strictly over: a latency exactly at the limit is within it. */
function countOver(limits: readonly number[], counts: number[], value: number): void {
  for (let i = 0; i < limits.length; i++) if (value > (limits[i] as number)) counts[i] = (counts[i] as number) + 1;
}

function addByLimit(limits: readonly number[], counts: number[], saved: Record<string, number>): void {
  limits.forEach((limit, i) => (counts[i] = (counts[i] as number) + (saved[String(limit)] ?? 0)));
}

function byLimit(limits: readonly number[], counts: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  limits.forEach((limit, i) => (out[String(limit)] = counts[i] as number));
  return out;
}

/**
 * Cost from the token totals: the price is fixed per arm, so this equals the per-request sum
 * without accumulating floating-point error over thousands of additions.
 */
export function costUsd(price: Price | undefined, promptTokens: number, completionTokens: number): number {
  if (!price) return 0;
  return (promptTokens * price.input_per_mtok) / 1e6 + (completionTokens * price.output_per_mtok) / 1e6;
}
