// How many requests were sent before a moment, in bounded memory: the p95 ratio's sent-before bound for blue
// (src/analysis/quantile.ts) asks, at each look, for the requests sent at least v before it, for a few v. One
// object per request would grow with the stage (an hour at 100 req/s: 360,000); these are LEVELS rings of BINS
// counts each, level j's bins 2^j ms wide, so level j covers the last BINS x 2^j ms (level 14: 70 min, over the
// longest latency the buckets hold). A moment is answered on the finest level still holding it, rounded down to
// that level's bin edge: the count is exact for that edge, never later than the moment asked, and the edge is
// within 1% of the moment's age (it is on a level whose bins are under 2 / BINS of that age).
import { HIGHEST_MS } from '../metrics/buckets.js';

/** A power of two (slot). */
const BINS = 256;
const LEVELS = Math.max(1, Math.ceil(Math.log2(HIGHEST_MS / BINS)) + 1);
/** Each level's bin width (ms): 2 ** level computed once, not at every send (it was most of record's 1.8 us). */
const WIDTHS = Array.from({ length: LEVELS }, (_, level) => 2 ** level);

export class SendTimes {
  /** Sends recorded so far. */
  total = 0;
  private readonly counts = Array.from({ length: LEVELS }, () => new Uint32Array(BINS));
  /** Per level, the newest bin (absolute index: floor(at / width)) written; bins older than BINS before it are gone. */
  private readonly heads = new Array<number>(LEVELS).fill(-Infinity);

  /** A send at `at` (steady ms, never earlier than the last). */
  record(at: number): void {
    this.total++;
    for (let level = 0; level < LEVELS; level++) {
      const bin = Math.floor(at / (WIDTHS[level] as number));
      if (bin > (this.heads[level] as number)) this.advance(level, bin);
      const ring = this.counts[level] as Uint32Array;
      const k = slot(bin);
      ring[k] = (ring[k] as number) + 1;
    }
  }

  /**
   * A send recorded at `at` taken back: its result was neutral (docs/proxy.md, "Neutral results"), in no sample the
   * bound is of. A level that no longer holds its bin needs nothing: every edge that level can answer is after it.
   */
  remove(at: number): void {
    this.total--;
    for (let level = 0; level < LEVELS; level++) {
      const bin = Math.floor(at / (WIDTHS[level] as number));
      if (bin <= (this.heads[level] as number) - BINS) continue;
      const ring = this.counts[level] as Uint32Array;
      const k = slot(bin);
      ring[k] = (ring[k] as number) - 1;
    }
  }

  /**
   * The sends before an edge at or before `at` (those sent at or after it are not counted), on the finest level
   * still holding `at`; 0 (the edge at the start of time) when none does.
   */
  sentBefore(at: number): number {
    for (let level = 0; level < LEVELS; level++) {
      const edge = Math.floor(at / (WIDTHS[level] as number));
      const head = this.heads[level] as number;
      if (edge > head) return this.total;
      if (edge <= head - BINS) continue;
      const ring = this.counts[level] as Uint32Array;
      let since = 0;
      for (let bin = edge; bin <= head; bin++) since += ring[slot(bin)] as number;
      return this.total - since;
    }
    return 0;
  }

  /** Makes `bin` the level's newest, emptying the bins between (a quiet time, or bins a turn of the ring old). */
  private advance(level: number, bin: number): void {
    const head = this.heads[level] as number;
    if (bin <= head) return;
    const ring = this.counts[level] as Uint32Array;
    if (bin - head >= BINS) ring.fill(0);
    else for (let b = head + 1; b <= bin; b++) ring[slot(b)] = 0;
    this.heads[level] = bin;
  }
}

/**
 * A bin's place in its ring: bin mod BINS, below 0 too (a clock may start there). Exact for every whole number a
 * double holds: `&` takes it mod 2^32 in two's complement, and BINS divides 2^32. (Two `%` of a double cost ~1 us a send.)
 */
function slot(bin: number): number {
  return bin & (BINS - 1);
}
