// Latency counts in log-spaced buckets: a small, plain, mergeable distribution that the p95-ratio rule queries
// by rank. Bucket i holds latencies in (GROWTH^(i-1), GROWTH^i] ms, so a rank query answered with a bucket's
// upper edge is never below the true value and one answered with its lower edge never above it, and neither
// is more than 2% off. Dense from the lowest bucket used to the highest: a typical arm spans 100-300 buckets.
import { HIGHEST_MICROS } from './range.js';

export const BUCKET_GROWTH = 1.02;
/** Latencies are recorded between 1 µs and 1 h (the histogram's range); values outside are clamped. */
export const LOWEST_MS = 0.001;
export const HIGHEST_MS = HIGHEST_MICROS / 1000;

const LOG_GROWTH = Math.log(BUCKET_GROWTH);

export interface LatencyBuckets {
  /** The bucket index of counts[0]. */
  first: number;
  /** counts[k]: requests whose latency fell in bucket first + k. */
  counts: number[];
}

/** The bucket of a latency: the i with GROWTH^(i-1) < ms <= GROWTH^i, after clamping to [LOWEST_MS, HIGHEST_MS]. */
export function bucketOf(ms: number): number {
  const value = clampMs(ms);
  let index = Math.ceil(Math.log(value) / LOG_GROWTH);
  // Float rounding at an edge: settle so the value is inside (lower, upper] exactly.
  while (bucketUpperMs(index) < value) index++;
  while (bucketLowerMs(index) >= value) index--;
  return index;
}

// Every edge bucketOf can look at (the buckets of LOWEST_MS and HIGHEST_MS, and one beyond each), worked out once:
// a latency is recorded on every answer the proxy passes, and two powers a latency were ~600 instructions of it
// (session 36). The same expression as outside the table, so an edge is the same number either way.
const FIRST_EDGE = Math.ceil(Math.log(LOWEST_MS) / LOG_GROWTH) - 2;
const EDGES = Float64Array.from({ length: Math.ceil(Math.log(HIGHEST_MS) / LOG_GROWTH) + 3 - FIRST_EDGE }, (_, k) => BUCKET_GROWTH ** (FIRST_EDGE + k));

export function bucketUpperMs(index: number): number {
  const edge = EDGES[index - FIRST_EDGE];
  return edge === undefined ? BUCKET_GROWTH ** index : edge;
}

export function bucketLowerMs(index: number): number {
  return bucketUpperMs(index - 1);
}

function clampMs(ms: number): number {
  if (!(ms > LOWEST_MS)) return LOWEST_MS;
  return ms > HIGHEST_MS ? HIGHEST_MS : ms;
}

export function bucketTotal(buckets: LatencyBuckets | undefined): number {
  let total = 0;
  for (const count of buckets?.counts ?? []) total += count;
  return total;
}

/** A copy of `buckets` (or an empty set) with each latency in `ms` added. */
export function withLatencies(buckets: LatencyBuckets | undefined, ms: readonly number[]): LatencyBuckets | undefined {
  if (ms.length === 0) return buckets;
  const counter = new BucketCounter(buckets);
  for (const value of ms) counter.record(value);
  return counter.snapshot();
}

/** Several arms' (or stages') counts added up; undefined when none has any. */
export function mergeBuckets(list: readonly (LatencyBuckets | undefined)[]): LatencyBuckets | undefined {
  const counter = new BucketCounter();
  for (const buckets of list) counter.add(buckets);
  return counter.snapshot();
}

/** The mutable side: O(1) per latency once the range has been reached. */
export class BucketCounter {
  private first = 0;
  private counts: number[] = [];

  constructor(from?: LatencyBuckets) {
    this.add(from);
  }

  record(ms: number): void {
    this.addAt(bucketOf(ms), 1);
  }

  add(buckets: LatencyBuckets | undefined): void {
    if (!buckets) return;
    buckets.counts.forEach((count, k) => {
      if (count > 0) this.addAt(buckets.first + k, count);
    });
  }

  /** Undefined before the first latency; a fresh copy each call. */
  snapshot(): LatencyBuckets | undefined {
    return this.counts.length === 0 ? undefined : { first: this.first, counts: [...this.counts] };
  }

  private addAt(index: number, count: number): void {
    if (this.counts.length === 0) {
      this.first = index;
      this.counts = [0];
    } else if (index < this.first) {
      this.counts = [...new Array<number>(this.first - index).fill(0), ...this.counts];
      this.first = index;
    } else if (index >= this.first + this.counts.length) {
      while (this.counts.length <= index - this.first) this.counts.push(0);
    }
    const k = index - this.first;
    this.counts[k] = (this.counts[k] as number) + count;
  }
}
