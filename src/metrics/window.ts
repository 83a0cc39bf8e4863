// Live figures over the last few seconds: per-second buckets in a ring, plus a bounded ring of latencies.
import type { WindowStats } from './types.js';

interface Bucket {
  second: number;
  requests: number;
  failures: number;
}

const LATENCY_SAMPLES = 2048;

export class RollingWindow {
  private readonly buckets: Bucket[];
  private readonly latencyAt = new Float64Array(LATENCY_SAMPLES);
  private readonly latencyMs = new Float64Array(LATENCY_SAMPLES);
  private latencyNext = 0;
  private latencyFilled = 0;

  constructor(
    private readonly seconds: number,
    private readonly now: () => number,
  ) {
    this.buckets = Array.from({ length: seconds }, () => ({ second: -1, requests: 0, failures: 0 }));
  }

  record(ok: boolean, latencyMs: number): void {
    const at = this.now();
    const second = Math.floor(at / 1000);
    const bucket = this.buckets[second % this.seconds] as Bucket;
    if (bucket.second !== second) {
      bucket.second = second;
      bucket.requests = 0;
      bucket.failures = 0;
    }
    bucket.requests++;
    if (!ok) bucket.failures++;
    this.latencyAt[this.latencyNext] = at;
    this.latencyMs[this.latencyNext] = latencyMs;
    this.latencyNext = (this.latencyNext + 1) % LATENCY_SAMPLES;
    this.latencyFilled = Math.min(LATENCY_SAMPLES, this.latencyFilled + 1);
  }

  stats(): WindowStats {
    const now = this.now();
    const current = Math.floor(now / 1000);
    let requests = 0;
    let failures = 0;
    for (const bucket of this.buckets) {
      if (bucket.second > current - this.seconds && bucket.second <= current) {
        requests += bucket.requests;
        failures += bucket.failures;
      }
    }
    const since = now - this.seconds * 1000;
    const recent: number[] = [];
    for (let i = 0; i < this.latencyFilled; i++) {
      if ((this.latencyAt[i] as number) > since) recent.push(this.latencyMs[i] as number);
    }
    recent.sort((a, b) => a - b);
    const p95 = recent.length ? (recent[Math.min(recent.length - 1, Math.ceil(recent.length * 0.95) - 1)] as number) : null;
    return {
      seconds: this.seconds,
      requestsPerSecond: requests / this.seconds,
      errorRate: requests ? failures / requests : 0,
      latencyP95: p95,
    };
  }
}
