// Every result the proxy records, in order, for the rollout that drives it: GET /admin/results?after=SEQ.
// The controller records each one into its own metrics, so its judge sees exactly what the traffic path saw
// (fallbacks as green failures, mirrors as green requests). A bounded ring: a reader that falls more than
// `capacity` results behind is told how many it missed, never makes the proxy hold more. The ring keeps each result as
// typed-array cells, not an object (feed-ring.ts: ~112 bytes outside the JS heap instead of ~0.6 KB in its old
// generation), and gives back the same JSON.
import { randomUUID } from 'node:crypto';
import type { QualityOutcome } from '../analysis/quality.js';
import type { UpstreamResult } from '../upstream/types.js';
import { FeedRing } from './feed-ring.js';
import type { InFlightByStage, ResultKind } from './metrics.js';

/** Where a result handed over by a stopped proxy was first recorded (handover.ts). */
export interface FeedOrigin {
  /** The feed (proxy process) that recorded it, and its number there. */
  epoch: string;
  seq: number;
  /** The rollout run whose route it was served under: only that rollout's reader takes it. */
  controller: string;
  /**
   * Its attempt's number in that feed (FeedEntry.sent there), when it was numbered: a stage's end cut in that feed
   * (a rollout's read before the proxy stopped) tells by it whether the attempt began before the cut. Since session
   * 29; kept here, not as the entry's `sent`, which a reader compares with the feed it reads.
   */
  sent?: number;
}

export interface FeedEntry {
  seq: number;
  /** Set on a result a stopped proxy recorded and this one serves for it: a reader takes each origin once. */
  origin?: FeedOrigin;
  /** The controller's stage number in force when the result was recorded (see PUT /admin/route `stage`). */
  stage?: number;
  /**
   * Its attempt's number in this proxy's send order (comparable with inFlight.started): a rollout judges a stage's end
   * on the attempts begun before it. Absent from proxies before session 28 and from results handed over (another
   * process numbered those: their number is their origin's `sent`).
   */
  sent?: number;
  kind: ResultKind;
  /** The result without its answer text (the figures never need it, and it may be long or private). */
  result: UpstreamResult;
  quality: { ok: boolean; reason?: string };
}

export interface FeedPage {
  /** Pass as `after` next time: a cursor in this feed (a cursor not this feed's is read as 0: ResultsFeed.read). */
  next: number;
  /** Results that fell out of the ring before this reader asked for them. */
  missed: number;
  /** The newest sequence number: below the reader's cursor, the proxy restarted (its feed began again at 1). */
  head: number;
  results: FeedEntry[];
}

/**
 * GET /admin/results: a page, the feed's epoch (one per proxy process: a new one means the proxy restarted), and
 * its FEED_VERSION (absent from a proxy before handovers).
 */
export type FeedAnswer = FeedPage & { epoch: string; version?: number; inFlight?: FeedInFlight };

/**
 * Beside each page: the proxy's attempts under way per stage tag (absent from a proxy older than the stage-end
 * wait), the latest one begun now fails on a timeout if it stalls (admin.ts stallTimeoutMs: the longest a stage's
 * end waits), and the latest it ends at all (admin.ts longestMs: the longest the last stage's end waits, before the
 * promotion; absent from a proxy before session 17).
 */
export type FeedInFlight = InFlightByStage & {
  stallTimeoutMs?: number;
  longestMs?: number;
  /** The page's results carry `sent` (FeedEntry.sent) where this proxy numbered their attempts; absent before session 28. */
  sentTagged?: boolean;
};

export const DEFAULT_FEED_CAPACITY = 100_000;
/**
 * GET /admin/results says it (`version`). 2: results may carry `origin` (handed over by a stopped proxy), and a
 * reader says its feed (`epoch`) so the proxy knows what was read. A rollout reading a higher one warns.
 */
export const FEED_VERSION = 2;
const MAX_PAGE = 5_000;

/** A result as one proxy hands it to the next (handover.ts): its origin always set, its number to come. */
export type HandedEntry = Omit<FeedEntry, 'seq' | 'origin' | 'sent'> & { origin: FeedOrigin };

export interface FeedOptions {
  epoch?: string;
  /** The rollout run whose route is in force now (RouteHolder.controller): each result is recorded under it. */
  controller?: () => string | undefined;
  /** Keys a client abort's sticky client as it joins the feed (client-digest.ts): what leaves the process. */
  clientDigest?: (client: string) => string;
}

export class ResultsFeed {
  readonly epoch: string;
  /** The ring's size: results a reader falls further behind on are missed (and a handover file holds no more). */
  readonly capacity: number;
  /** The last `capacity` results, each with the rollout run whose route served it (a handover needs it). */
  private readonly ring: FeedRing;
  /** Sequence number of the last result pushed; 0 before any. */
  private head = 0;
  /** The highest `after` a reader asked for: it had recorded every result up to it. */
  private readUpTo = 0;
  /**
   * The highest `after` asked without saying its feed (`epoch`): an older bluegreen rollout, which knows nothing of
   * epochs or origins. Counted as read while no reader has said its feed; once one has, ignored (a tool polling by
   * hand must not hide results from the rollout).
   */
  private readUnsaid = 0;
  private epochSaid = false;
  private readonly listeners: (() => void)[] = [];

  constructor(
    capacity = DEFAULT_FEED_CAPACITY,
    private readonly options: FeedOptions = {},
  ) {
    this.capacity = capacity;
    this.epoch = options.epoch ?? randomUUID();
    this.ring = new FeedRing(this.capacity);
  }

  get cursor(): number {
    return this.head;
  }

  /** Every result up to this one was read (a reader asked for those after it). */
  get readPast(): number {
    return this.epochSaid ? this.readUpTo : Math.max(this.readUpTo, this.readUnsaid);
  }

  /** Read only by a reader that does not say its feed (an older rollout): a handover may be judged twice by it. */
  get readByOlderReader(): boolean {
    return !this.epochSaid && this.readUnsaid > 0;
  }

  /** Told after each result pushed or adopted (a draining proxy's handover writes then). */
  onPush(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** `sent`: the result's attempt number (FeedEntry.sent). */
  push(result: UpstreamResult, kind: ResultKind, quality: QualityOutcome, stage: number | undefined, sent?: number): void {
    // Only a client abort names its client: one HMAC per abort, nothing for any other result.
    const client = result.client !== undefined && this.options.clientDigest ? this.options.clientDigest(result.client) : undefined;
    this.ring.record(++this.head, result, kind, quality, stage, this.options.controller?.(), client, sent);
    this.pushed();
  }

  /** Results a stopped proxy handed over, served after those already here (each keeps its origin and stage). */
  adopt(entries: readonly HandedEntry[]): void {
    for (const entry of entries) {
      this.ring.adopt(++this.head, entry);
      this.pushed();
    }
  }

  /**
   * What a reader has not read yet of the results served under `controller`'s routes, each with its origin (its
   * own, for this feed's results): what this proxy hands over when it stops.
   */
  unread(controller: string): HandedEntry[] {
    return this.handOver(controller, 0, Infinity).results;
  }

  /**
   * The unread results after `after` served under `controller`'s routes, at most `limit`, and the number of the last
   * result looked at (pass it as `after` next time): a draining proxy appends each batch to its handover file, so
   * each costs what is new, not every unread result again.
   */
  handOver(controller: string, after: number, limit: number): { results: HandedEntry[]; upTo: number } {
    const results: HandedEntry[] = [];
    let seq = Math.max(this.readPast + 1, after + 1, this.head - this.capacity + 1, 1);
    for (; seq <= this.head && results.length < limit; seq++) {
      if (this.ring.controller(seq) === controller) results.push(this.ring.handed(seq, this.epoch, controller));
    }
    return { results, upTo: Math.max(after, seq - 1) };
  }

  private pushed(): void {
    for (const listener of this.listeners) listener();
  }

  /**
   * Results after `after`, oldest first, at most `limit`. `epoch`: the feed the reader's cursor is in; when it is
   * this one, every result up to `after` counts as read (a cursor of the stopped proxy's feed says nothing here).
   * A cursor that is not this feed's (another `epoch` said, or past the newest result: a reader of the process
   * before a restart) is read as 0: the page starts at the feed's start and `next` is a cursor in this feed. It
   * was `next: after`, which a reader passing it back took past every result up to `after`, and an older reader's
   * cursor counted them all as read (not handed over when the proxy stopped).
   */
  read(after: number, limit = MAX_PAGE, epoch?: string): FeedPage {
    if (after > this.head || (epoch !== undefined && epoch !== this.epoch)) after = 0;
    if (epoch === this.epoch) {
      this.readUpTo = Math.max(this.readUpTo, Math.min(after, this.head));
      this.epochSaid = true;
    } else if (epoch === undefined) this.readUnsaid = Math.max(this.readUnsaid, Math.min(after, this.head));
    const oldest = Math.max(1, this.head - this.capacity + 1);
    const from = Math.max(after + 1, oldest);
    const missed = Math.max(0, oldest - (after + 1));
    const to = Math.min(this.head, from + Math.min(limit, MAX_PAGE) - 1);
    const results: FeedEntry[] = [];
    for (let seq = from; seq <= to; seq++) results.push(this.ring.entry(seq));
    return { next: Math.max(after, to), missed, head: this.head, results };
  }
}
