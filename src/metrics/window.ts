// Live figures per arm over the last few seconds: a ring of one-second buckets, so memory is fixed.
import type { Histogram } from 'hdr-histogram-js';
import { createHistogram, toMicros } from './histogram.js';
import type { WindowStats } from './types.js';

interface Bucket {
  /** Which second (of the steady clock it is given) the bucket holds; one from an older second is stale and reset on reuse. */
  second: number;
  requests: number;
  failures: number;
  /** Created on first use: an arm that never gets traffic costs nothing. */
  latency?: Histogram;
}

export class RollingWindow {
  private readonly buckets: Bucket[];
  private merged?: Histogram;
  /** Bumped on every record, so the merged p95 is recomputed only when something changed. */
  private version = 0;
  private p95Key = '';
  private p95: number | null = null;

  /**
   * @param seconds window length, whole seconds
   * @param origin when recording began (ms): early on, rates divide by the time actually elapsed
   */
  constructor(
    private readonly seconds: number,
    private readonly now: () => number,
    private readonly origin: number,
  ) {
    if (!Number.isInteger(seconds) || seconds < 1) throw new RangeError(`window seconds must be a whole number >= 1, got ${seconds}`);
    this.buckets = Array.from({ length: seconds }, () => ({ second: Number.NEGATIVE_INFINITY, requests: 0, failures: 0 }));
  }

  record(latencyMs: number, failed: boolean): void {
    const second = Math.floor(this.now() / 1000);
    const bucket = this.buckets[mod(second, this.seconds)] as Bucket;
    if (bucket.second !== second) {
      bucket.second = second;
      bucket.requests = 0;
      bucket.failures = 0;
      bucket.latency?.reset();
    }
    bucket.requests++;
    if (failed) bucket.failures++;
    (bucket.latency ??= createHistogram(2)).recordValue(toMicros(latencyMs));
    this.version++;
  }

  /** Figures over the current (partial) second and the seconds - 1 before it. */
  stats(): WindowStats {
    const nowMs = this.now();
    const nowSecond = Math.floor(nowMs / 1000);
    const oldest = nowSecond - this.seconds + 1;
    let requests = 0;
    let failures = 0;
    for (const bucket of this.buckets) {
      if (bucket.second < oldest || bucket.second > nowSecond) continue;
      requests += bucket.requests;
      failures += bucket.failures;
    }
    // The buckets cover from the oldest second's start (or the origin) to now; at least 1 s so one early request is not a spike.
    const coveredMs = nowMs - Math.max(this.origin, oldest * 1000);
    return {
      seconds: this.seconds,
      requestsPerSecond: requests / (Math.max(coveredMs, 1000) / 1000),
      errorRate: requests > 0 ? failures / requests : 0,
      latencyP95: requests > 0 ? this.mergedP95(oldest, nowSecond) : null,
    };
  }

  private mergedP95(oldest: number, nowSecond: number): number | null {
    const key = `${this.version}:${nowSecond}`;
    if (key === this.p95Key) return this.p95;
    const merged = (this.merged ??= createHistogram(2));
    merged.reset();
    for (const bucket of this.buckets) {
      if (bucket.second < oldest || bucket.second > nowSecond || !bucket.latency || bucket.requests === 0) continue;
      merged.add(bucket.latency);
    }
    this.p95 = merged.totalCount > 0 ? merged.getValueAtPercentile(95) / 1000 : null;
    this.p95Key = key;
    return this.p95;
  }
}

function mod(value: number, base: number): number {
  return ((value % base) + base) % base;
}
