// The results feed's ring (results-feed.ts), kept as columns of numbers rather than an object per result. A proxy a
// rollout drives keeps its last 100,000 results: as objects (a copy of each UpstreamResult, its usage and rate
// limits) that was ~0.4 KB of heap a result, all of it promoted to the old generation and marked again by every
// mark-compact (docs/benchmarks-history.md, sessions 17 and 18). Here each result is a few typed-array cells outside the
// JS heap (nothing for the GC to walk) and its strings are numbers into one table of the few distinct values.
//
// A reader gets exactly the JSON the objects gave, byte for byte: fields come back in the order the proxy makes
// them (forward-result.ts; a handover file's lines, handover-writer.ts), numbers as they were. A result the
// columns cannot give back so (a field this version does not know, a value of another type, another order: a
// newer proxy's handover) is kept whole, as before. Where each field goes: feed-layout.ts; the columns:
// feed-columns.ts; writing and reading a slot: feed-slot-writer.ts, feed-slot-reader.ts.
import type { QualityOutcome } from '../analysis/quality.js';
import type { UpstreamResult } from '../upstream/types.js';
import { FeedColumns } from './feed-columns.js';
import * as layout from './feed-layout.js';
import { NOT_PASSED, PASSED, readEntry } from './feed-slot-reader.js';
import { SlotWriter } from './feed-slot-writer.js';
import type { ResultKind } from './metrics.js';
import type { FeedEntry, HandedEntry } from './results-feed.js';

// Module-local copies: V8 folds them into the hot path, which it does not through import bindings (record() cost
// ~8% more CPU so, A/B at load 25).
const { CONTROLLER, KIND_SHIFT, KINDS, WHOLE } = layout;

/** A result's copy as the feed keeps it: without its answer text, its client as the feed names it. */
function resultCopy(result: UpstreamResult, client: string | undefined): UpstreamResult {
  const copy = { ...result, content: '' };
  if (client !== undefined) copy.client = client;
  return copy;
}

function qualityCopy(quality: QualityOutcome): FeedEntry['quality'] {
  return quality.reason !== undefined ? { ok: quality.ok, reason: quality.reason } : quality.ok ? PASSED : NOT_PASSED;
}

export class FeedRing {
  /** The columns' bytes a slot, whatever its result holds (its distinct strings are kept once, in FeedStrings). */
  static readonly BYTES_PER_RESULT = FeedColumns.BYTES_PER_SLOT + Float64Array.BYTES_PER_ELEMENT;
  private readonly columns: FeedColumns;
  private readonly writer: SlotWriter;
  /** The few results the columns cannot give back exactly, by slot. */
  private readonly whole = new Map<number, FeedEntry>();
  /**
   * Each slot's attempt number, 0 for none: beside the columns, whose layout is a result's. FeedEntry.sent for a
   * result recorded here; its origin's `sent` for one handed over (the stopped process's numbering).
   */
  private readonly sent: Float64Array;

  constructor(readonly capacity: number) {
    this.columns = new FeedColumns(capacity);
    this.sent = new Float64Array(capacity);
    this.writer = new SlotWriter(this.columns);
  }

  /** A result this proxy recorded, as number `seq` under `controller`'s route; `client`: its client as the feed names it. */
  record(
    seq: number,
    result: UpstreamResult,
    kind: ResultKind,
    quality: QualityOutcome,
    stage: number | undefined,
    controller: string | undefined,
    client?: string,
    sent?: number,
  ): void {
    const slot = this.clear(seq);
    this.setController(slot, controller);
    this.sent[slot] = sent ?? 0;
    const kept =
      KINDS.includes(kind) &&
      this.writer.writeResult(result, true, client) &&
      this.writer.recordQuality(quality) &&
      (stage === undefined || this.writer.writeStage(stage));
    if (kept) return this.seal(slot, kind);
    const entry: FeedEntry = { seq, kind, result: resultCopy(result, client), quality: qualityCopy(quality) };
    if (stage !== undefined) entry.stage = stage;
    if (sent !== undefined) entry.sent = sent;
    this.keepWhole(slot, entry);
  }

  /** A result a stopped proxy handed over, as number `seq` here (its origin names its controller). */
  adopt(seq: number, handed: HandedEntry): void {
    const slot = this.clear(seq);
    this.setController(slot, handed.origin.controller);
    if (this.writer.writeHanded(handed)) {
      this.sent[slot] = handed.origin.sent ?? 0;
      return this.seal(slot, handed.kind);
    }
    // A hand-edited handover line may carry a seq of its own: the number is this feed's, first as always. A `sent`
    // is the stopped process's numbering, which says nothing of this one's (its origin's `sent` does, and stays).
    const { seq: _theirs, sent: _sent, ...rest } = handed as HandedEntry & { seq?: unknown; sent?: unknown };
    this.keepWhole(slot, { seq, ...rest });
  }

  /** Result `seq` as GET /admin/results serves it; the slot must hold it (the ring's last `capacity`). */
  entry(seq: number): FeedEntry {
    const slot = seq % this.capacity;
    if ((this.columns.flags[slot] ?? 0) & WHOLE) return this.whole.get(slot) as FeedEntry;
    const entry = readEntry(this.columns, slot, seq);
    const sent = this.sent[slot] ?? 0;
    if (sent > 0) {
      if (entry.origin) entry.origin.sent = sent;
      else entry.sent = sent;
    }
    return entry;
  }

  /**
   * Result `seq` as a handover file holds it: its origin, or this feed's (`epoch`) under `controller` when recorded
   * here, with its attempt's number there.
   */
  handed(seq: number, epoch: string, controller: string): HandedEntry {
    const { seq: _seq, origin, sent, ...rest } = this.entry(seq);
    return { ...rest, origin: origin ?? { epoch, seq, controller, ...(sent !== undefined && { sent }) } };
  }

  /** The rollout run whose route result `seq` was served under. */
  controller(seq: number): string | undefined {
    return this.columns.text(seq % this.capacity, CONTROLLER);
  }

  /** The columns' bytes (outside the JS heap). */
  get bytes(): number {
    return this.columns.bytes + this.sent.byteLength;
  }

  /** Distinct strings the ring holds (tests). */
  get distinctStrings(): number {
    return this.columns.strings.size;
  }

  /** Results kept whole (tests). */
  get keptWhole(): number {
    return this.whole.size;
  }

  /** Empties the slot of `seq`, letting go of what it held, and begins writing it; returns it. */
  private clear(seq: number): number {
    const slot = seq % this.capacity;
    if ((this.columns.flags[slot] ?? 0) & WHOLE) this.whole.delete(slot);
    this.columns.releaseTexts(slot);
    this.columns.present[slot] = 0;
    this.columns.flags[slot] = 0;
    this.sent[slot] = 0;
    this.writer.begin(slot);
    return slot;
  }

  private seal(slot: number, kind: ResultKind): void {
    this.columns.present[slot] = this.writer.present;
    this.columns.flags[slot] = this.writer.flags | (KINDS.indexOf(kind) << KIND_SHIFT);
  }

  /** Kept as an object: what the columns took of it goes, the controller stays (a handover reads it). */
  private keepWhole(slot: number, entry: FeedEntry): void {
    this.columns.releaseTexts(slot, CONTROLLER);
    this.columns.present[slot] = 0;
    this.columns.flags[slot] = WHOLE;
    this.whole.set(slot, entry);
  }

  private setController(slot: number, controller: string | undefined): void {
    if (controller !== undefined) this.columns.setText(slot, CONTROLLER, controller);
  }
}
