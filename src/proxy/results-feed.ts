// Every result the proxy records, in order, for the rollout that drives it: GET /admin/results?after=SEQ.
// The controller records each one into its own metrics, so its judge sees exactly what the traffic path saw
// (fallbacks as green failures, mirrors as green requests). A bounded ring: a reader that falls more than
// `capacity` results behind is told how many it missed, never makes the proxy hold more.
import { randomUUID } from 'node:crypto';
import type { QualityOutcome } from '../analysis/quality.js';
import type { UpstreamResult } from '../upstream/types.js';
import type { ResultKind } from './metrics.js';

export interface FeedEntry {
  seq: number;
  /** The controller's stage number in force when the result was recorded (see PUT /admin/route `stage`). */
  stage?: number;
  kind: ResultKind;
  /** The result without its answer text (the figures never need it, and it may be long or private). */
  result: UpstreamResult;
  quality: { ok: boolean; reason?: string };
}

export interface FeedPage {
  /** Pass as `after` next time. */
  next: number;
  /** Results that fell out of the ring before this reader asked for them. */
  missed: number;
  /** The newest sequence number: below the reader's cursor, the proxy restarted (its feed began again at 1). */
  head: number;
  results: FeedEntry[];
}

/** GET /admin/results: a page, and the feed's epoch (one per proxy process: a new one means the proxy restarted). */
export type FeedAnswer = FeedPage & { epoch: string };

export const DEFAULT_FEED_CAPACITY = 100_000;
const MAX_PAGE = 5_000;

export class ResultsFeed {
  private readonly ring: (FeedEntry | undefined)[];
  /** Sequence number of the last result pushed; 0 before any. */
  private head = 0;

  constructor(
    private readonly capacity = DEFAULT_FEED_CAPACITY,
    readonly epoch: string = randomUUID(),
  ) {
    this.ring = new Array<FeedEntry | undefined>(capacity);
  }

  get cursor(): number {
    return this.head;
  }

  push(result: UpstreamResult, kind: ResultKind, quality: QualityOutcome, stage: number | undefined): void {
    const seq = ++this.head;
    const entry: FeedEntry = {
      seq,
      kind,
      result: { ...result, content: '' },
      quality: { ok: quality.ok, ...(quality.reason !== undefined && { reason: quality.reason }) },
    };
    if (stage !== undefined) entry.stage = stage;
    this.ring[seq % this.capacity] = entry;
  }

  /** Results after `after`, oldest first, at most `limit`. */
  read(after: number, limit = MAX_PAGE): FeedPage {
    const oldest = Math.max(1, this.head - this.capacity + 1);
    const from = Math.max(after + 1, oldest);
    const missed = Math.max(0, oldest - (after + 1));
    const to = Math.min(this.head, from + Math.min(limit, MAX_PAGE) - 1);
    const results: FeedEntry[] = [];
    for (let seq = from; seq <= to; seq++) {
      const entry = this.ring[seq % this.capacity];
      if (entry) results.push(entry);
    }
    return { next: Math.max(after, to), missed, head: this.head, results };
  }
}
