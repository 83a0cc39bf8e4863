// A small sampled file's usable requests, kept in memory after its first pass and replayed from there: re-read in
// a loop at a low sample_rate (2 lines at 0.001), it took a core in open/read/close calls.
import type { ChatRequest } from '../upstream/types.js';

/** Lines drawn from a cached file for one next() before giving up (a sample_rate of 1e-9 must not hang it). */
const MAX_CACHE_DRAWS = 10_000;

export class CachedReplay {
  private cursor = 0;

  /** `dropLine`: whether sample_rate drops the next line; `onWrap`: a pass over the lines is complete. */
  constructor(
    private readonly lines: readonly ChatRequest[],
    private readonly dropLine: () => boolean,
    private readonly onWrap: () => void,
  ) {}

  /** The next request kept by sample_rate, or undefined after MAX_CACHE_DRAWS lines all dropped. */
  next(): ChatRequest | undefined {
    for (let draws = 0; draws < MAX_CACHE_DRAWS; draws++) {
      const request = this.lines[this.cursor] as ChatRequest;
      this.cursor = (this.cursor + 1) % this.lines.length;
      if (this.cursor === 0) this.onWrap();
      // A copy: a request is the caller's to adapt, and the cache serves the same line again.
      if (!this.dropLine()) return structuredClone(request);
    }
    return undefined;
  }
}
