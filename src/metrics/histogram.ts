// Latency histograms: HdrHistogram in whole microseconds, so memory stays fixed however many requests arrive.
import { build } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { Percentiles } from './types.js';

const MICROS_PER_MS = 1000;
/** One hour: longer than any request timeout; anything above is clamped rather than thrown. */
export const HIGHEST_MICROS = 3_600_000_000;

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
 * approximations); percentiles are computed on demand and cached until the next value arrives.
 */
export class LatencyHistogram {
  private readonly histogram = createHistogram(3);
  private count = 0;
  private sumMs = 0;
  private maxMs = 0;
  private cached: Percentiles | null = null;

  record(ms: number): void {
    const micros = toMicros(ms);
    this.histogram.recordValue(micros);
    const clampedMs = micros / MICROS_PER_MS;
    this.count++;
    this.sumMs += clampedMs;
    if (clampedMs > this.maxMs) this.maxMs = clampedMs;
  }

  get size(): number {
    return this.count;
  }

  /** Null before the first value; a fresh copy each call. */
  percentiles(): Percentiles | null {
    if (this.count === 0) return null;
    if (this.cached?.count !== this.count) {
      this.cached = {
        p50: this.at(50),
        p95: this.at(95),
        p99: this.at(99),
        max: this.maxMs,
        mean: this.sumMs / this.count,
        count: this.count,
      };
    }
    return { ...this.cached };
  }

  private at(percentile: number): number {
    // The histogram answers with its bucket's highest value; never report more than was actually seen.
    return Math.min(this.histogram.getValueAtPercentile(percentile) / MICROS_PER_MS, this.maxMs);
  }
}
