// Latency percentiles from an HDR histogram: constant memory whatever the request count, 3 significant digits.
import { build, type Histogram } from 'hdr-histogram-js';
import type { Percentiles } from './types.js';

/** Values are recorded in microseconds so sub-millisecond latencies keep their precision. */
const MICROS = 1000;
const ONE_HOUR_MICROS = 3_600_000_000;

export class LatencyHistogram {
  private readonly histogram: Histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: ONE_HOUR_MICROS,
    numberOfSignificantValueDigits: 3,
  });

  record(ms: number): void {
    const micros = Math.min(ONE_HOUR_MICROS, Math.max(1, Math.round(ms * MICROS)));
    this.histogram.recordValue(micros);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentiles(): Percentiles | null {
    const h = this.histogram;
    if (h.totalCount === 0) return null;
    return {
      p50: h.getValueAtPercentile(50) / MICROS,
      p95: h.getValueAtPercentile(95) / MICROS,
      p99: h.getValueAtPercentile(99) / MICROS,
      max: h.maxValue / MICROS,
      mean: h.mean / MICROS,
      count: h.totalCount,
    };
  }
}
