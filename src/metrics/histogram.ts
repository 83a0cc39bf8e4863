// Latency histograms: HdrHistogram in whole microseconds, so memory stays fixed however many requests arrive.
import { Int32Histogram, build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram, JsHistogram } from 'hdr-histogram-js';
import type { Percentiles } from './types.js';
import { HIGHEST_MICROS } from './range.js';

const MICROS_PER_MS = 1000;

/**
 * A fixed-range histogram, 1 µs to 1 h. 3 significant digits for stage figures (~95 KB each),
 * 2 for the short-lived window buckets (~14 KB). Pure JS: no wasm memory to manage or free.
 */
export function createHistogram(digits: 2 | 3): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MICROS,
    numberOfSignificantValueDigits: digits,
    bitBucketSize: 32,
    autoResize: false,
    useWebAssembly: false,
  });
}

/** Milliseconds to whole microseconds within the histogram's range (NaN or negative count as 0). */
export function toMicros(ms: number): number {
  if (!(ms > 0)) return 0;
  const micros = Math.round(ms * MICROS_PER_MS);
  return micros > HIGHEST_MICROS ? HIGHEST_MICROS : micros;
}

/**
 * Latency over one stage x arm. Mean and max are kept exactly beside the histogram (its own are bucket
 * approximations); percentiles are computed on demand, in one pass, and cached until the next value arrives.
 */
export class LatencyHistogram {
  // The concrete class, not build(): the one-pass percentile scan needs its index methods.
  private readonly histogram = new Int32Histogram(1, HIGHEST_MICROS, 3);
  private count = 0;
  private sumMs = 0;
  private maxMicros = 0;
  private cached: Percentiles | null = null;
  private saved?: { count: number; text: string };

  record(ms: number): void {
    const micros = toMicros(ms);
    this.histogram.recordValue(micros);
    this.count++;
    this.sumMs += micros / MICROS_PER_MS;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Adds a dead run's histogram (rollout --resume, read by readSavedHistogram) with its exact mean and max, so the
   * percentiles cover its requests too.
   */
  addSaved(histogram: JsHistogram, saved: Pick<Percentiles, 'mean' | 'max'>): void {
    this.histogram.add(histogram);
    this.count += histogram.totalCount;
    this.sumMs += saved.mean * histogram.totalCount;
    this.maxMicros = Math.max(this.maxMicros, toMicros(saved.max));
    this.cached = null;
  }

  /** An independent copy, to go on recording apart (ArmRecorder.copy). */
  copy(): LatencyHistogram {
    const twin = new LatencyHistogram();
    twin.histogram.add(this.histogram);
    twin.count = this.count;
    twin.sumMs = this.sumMs;
    twin.maxMicros = this.maxMicros;
    return twin;
  }

  /** The histogram as state.json keeps it (see saved-histogram.ts); encoded again only after new values. */
  encoded(): string | undefined {
    if (this.count === 0) return undefined;
    if (this.saved?.count !== this.count) this.saved = { count: this.count, text: encodeIntoCompressedBase64(this.histogram) };
    return this.saved.text;
  }

  /** Null before the first value; a fresh copy each call. */
  percentiles(): Percentiles | null {
    if (this.count === 0) return null;
    if (this.cached?.count !== this.count) this.cached = this.compute([]);
    return { ...this.cached };
  }

  /**
   * Percentiles as if requests still running had answered now, at their current ages (ms). Each will take
   * at least that long, so these are lower bounds of what the figures will be: a percentile over a limit
   * here is over it for good, before the slow answers arrive. Null when there is nothing at all.
   */
  percentilesWithRunning(runningAgesMs: readonly number[]): Percentiles | null {
    if (runningAgesMs.length === 0) return this.percentiles();
    return this.compute(runningAgesMs.map(toMicros).sort((a, b) => a - b));
  }

  /**
   * p50, p95 and p99 in a single scan of the counts (getValueAtPercentile scans once per percentile), with
   * `extraMicros` (ascending) counted in the buckets they fall in. Same rule as HdrHistogram: the value at
   * p is the highest equivalent value of the bucket holding the ceil(p% x count)-th value; never more than
   * the exact max.
   */
  private compute(extraMicros: readonly number[]): Percentiles {
    const histogram = this.histogram;
    const total = this.count + extraMicros.length;
    const maxMicros = Math.max(this.maxMicros, extraMicros.at(-1) ?? 0);
    const maxMs = maxMicros / MICROS_PER_MS;
    const rank = (percentile: number): number => {
      const exact = (percentile / 100) * total;
      // Shave float noise (0.95 * 1000 = 950.0000000000001) before rounding up.
      return Math.max(1, Math.ceil(exact - exact * 1e-12));
    };
    const ranks = [rank(50), rank(95), rank(99)] as const;
    const values = [maxMs, maxMs, maxMs];
    const last = histogram.countsArrayIndex(maxMicros);
    let extra = 0;
    let found = 0;
    let running = 0;
    for (let index = 0; index <= last && found < 3; index++) {
      running += histogram.getCountAtIndex(index);
      while (extra < extraMicros.length && histogram.countsArrayIndex(extraMicros[extra] as number) === index) {
        running++;
        extra++;
      }
      while (found < 3 && running >= (ranks[found] as number)) {
        const value = histogram.highestEquivalentValue(histogram.valueFromIndex(index)) / MICROS_PER_MS;
        values[found] = Math.min(value, maxMs);
        found++;
      }
    }
    let sumMs = this.sumMs;
    for (const micros of extraMicros) sumMs += micros / MICROS_PER_MS;
    return { p50: values[0] as number, p95: values[1] as number, p99: values[2] as number, max: maxMs, mean: sumMs / total, count: total };
  }
}
