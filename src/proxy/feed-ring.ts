// The results feed's ring (results-feed.ts), kept as columns of numbers rather than an object per result. A proxy a
// rollout drives keeps its last 100,000 results: as objects (a copy of each UpstreamResult, its usage and rate
// limits) that was ~0.4 KB of heap a result, all of it promoted to the old generation and marked again by every
// mark-compact (docs/benchmarks.md, sessions 17 and 18). Here each result is a few typed-array cells outside the
// JS heap (nothing for the GC to walk) and its strings are numbers into one table of the few distinct values.
//
// A reader gets exactly the JSON the objects gave, byte for byte: fields come back in the order the proxy makes
// them (forward-result.ts; a handover file's lines, handover-writer.ts), numbers as they were. A result the
// columns cannot give back so (a field this version does not know, a value of another type, another order: a
// newer proxy's handover) is kept whole, as before.
import type { QualityOutcome } from '../analysis/quality.js';
import type { UpstreamResult } from '../upstream/types.js';
import { FeedStrings, NO_STRING } from './feed-strings.js';
import type { ResultKind } from './metrics.js';
import type { FeedEntry, FeedOrigin, HandedEntry } from './results-feed.js';

const STRING = 0;
/** A boolean: its value is a bit of the slot's flags. */
const FLAG = 1;
/** A whole number from 0 to 2^32 - 1 (status, attempts, token counts). */
const COUNT = 2;
/** Any number (latencies). */
const NUMBER = 3;
/** The answer's text, never kept: always ''. */
const EMPTY = 4;
const OBJECT = 5;

interface Field {
  key: string;
  type: number;
  /** Its bit in the slot's presence word. */
  bit: number;
  /** Its column among its type's (STRING, COUNT, NUMBER), or its bit in the slot's flags (FLAG). */
  at: number;
  /** Its place among its object's fields: a result whose fields come in another order is kept whole. */
  order: number;
  /** An OBJECT's fields. */
  shape?: Shape;
}

interface Shape {
  fields: Field[];
  byKey: Map<string, Field>;
}

/** Where each field of a result goes; the order is forward-result.ts's, in which the proxy makes every result. */
function resultLayout() {
  const counters = { presence: 0, flags: 0, [STRING]: 0, [COUNT]: 0, [NUMBER]: 0 };
  const shape = (fields: [string, number, Shape?][]): Shape => {
    const list = fields.map(([key, type, inner], order): Field => {
      const bit = 1 << counters.presence++;
      const at = type === FLAG ? 1 << counters.flags++ : type === STRING || type === COUNT || type === NUMBER ? counters[type]++ : 0;
      return { key, type, bit, at, order, ...(inner && { shape: inner }) };
    });
    return { fields: list, byKey: new Map(list.map((field) => [field.key, field])) };
  };
  const result = shape([
    ['arm', STRING],
    ['model', STRING],
    ['stream', FLAG],
    ['attempts', COUNT],
    ['ok', FLAG],
    ['content', EMPTY],
    ['latencyMs', NUMBER],
    ['status', COUNT],
    [
      'rateLimit',
      OBJECT,
      shape([
        ['remainingRequests', COUNT],
        ['remainingTokens', COUNT],
      ]),
    ],
    ['servedModel', STRING],
    ['finishReason', STRING],
    ['finish', STRING],
    ['toolCalls', COUNT],
    ['reasoning', FLAG],
    ['refusal', FLAG],
    [
      'usage',
      OBJECT,
      shape([
        ['promptTokens', COUNT],
        ['completionTokens', COUNT],
        ['totalTokens', COUNT],
        ['estimated', FLAG],
      ]),
    ],
    ['ttftMs', NUMBER],
    ['failure', STRING],
    ['errorMessage', STRING],
    ['client', STRING],
  ]);
  return { result, strings: counters[STRING], counts: counters[COUNT], numbers: counters[NUMBER], flags: counters.flags };
}

const LAYOUT = resultLayout();
// Beside the result's own: the entry's quality, stage, origin and the rollout run whose route served it.
const QUALITY_REASON = LAYOUT.strings;
const CONTROLLER = LAYOUT.strings + 1;
const ORIGIN_EPOCH = LAYOUT.strings + 2;
const STRINGS = LAYOUT.strings + 3;
const STAGE = LAYOUT.counts;
const COUNTS = LAYOUT.counts + 1;
const ORIGIN_SEQ = LAYOUT.numbers;
const NUMBERS = LAYOUT.numbers + 1;
const KIND_SHIFT = LAYOUT.flags;
const QUALITY_OK = 1 << (KIND_SHIFT + 2);
const HAS_REASON = QUALITY_OK << 1;
const HAS_STAGE = QUALITY_OK << 2;
const HAS_ORIGIN = QUALITY_OK << 3;
/** Kept as the object it came as (FeedRing.whole). */
const WHOLE = QUALITY_OK << 4;
const CONTENT_BIT = (LAYOUT.result.byKey.get('content') as Field).bit;
const KINDS: readonly ResultKind[] = ['routed', 'fallback', 'mirror'];
/** The entry's own fields, in the order a handover line has them (handover-writer.ts). */
const ENTRY_ORDER = ['kind', 'result', 'quality', 'stage', 'origin'];

/** A quality outcome without a reason, shared by every entry that has it (most: an answer that passed). */
const PASSED: FeedEntry['quality'] = Object.freeze({ ok: true });
const NOT_PASSED: FeedEntry['quality'] = Object.freeze({ ok: false });

const isCount = (value: unknown): value is number => typeof value === 'number' && value >>> 0 === value;
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

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
  static readonly BYTES_PER_RESULT =
    2 * Uint32Array.BYTES_PER_ELEMENT + (STRINGS + COUNTS) * Uint32Array.BYTES_PER_ELEMENT + NUMBERS * Float64Array.BYTES_PER_ELEMENT;
  private readonly strings = new FeedStrings();
  /** Per slot: which fields the result has (Field.bit). */
  private readonly present: Uint32Array;
  /** Per slot: the booleans' values, the kind, the quality, and which of stage, origin and WHOLE. */
  private readonly flags: Uint32Array;
  /** STRINGS codes a slot (FeedStrings). */
  private readonly texts: Uint32Array;
  private readonly counts: Uint32Array;
  private readonly numbers: Float64Array;
  /** The few results the columns cannot give back exactly, by slot. */
  private readonly whole = new Map<number, FeedEntry>();
  /** Set while a result is written into its slot. */
  private presentNow = 0;
  private flagsNow = 0;

  constructor(readonly capacity: number) {
    this.present = new Uint32Array(capacity);
    this.flags = new Uint32Array(capacity);
    this.texts = new Uint32Array(capacity * STRINGS);
    this.counts = new Uint32Array(capacity * COUNTS);
    this.numbers = new Float64Array(capacity * NUMBERS);
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
  ): void {
    const slot = this.clear(seq);
    this.setController(slot, controller);
    const kept =
      KINDS.includes(kind) &&
      this.writeResult(slot, result, true, client) &&
      this.recordQuality(slot, quality) &&
      (stage === undefined || this.writeStage(slot, stage));
    if (kept) return this.seal(slot, kind);
    const entry: FeedEntry = { seq, kind, result: resultCopy(result, client), quality: qualityCopy(quality) };
    if (stage !== undefined) entry.stage = stage;
    this.keepWhole(slot, entry);
  }

  /** A result a stopped proxy handed over, as number `seq` here (its origin names its controller). */
  adopt(seq: number, handed: HandedEntry): void {
    const slot = this.clear(seq);
    this.setController(slot, handed.origin.controller);
    if (this.writeHanded(slot, handed)) return this.seal(slot, handed.kind);
    this.keepWhole(slot, { seq, ...handed });
  }

  /** Result `seq` as GET /admin/results serves it; the slot must hold it (the ring's last `capacity`). */
  entry(seq: number): FeedEntry {
    const slot = seq % this.capacity;
    const flags = this.flags[slot] ?? 0;
    if (flags & WHOLE) return this.whole.get(slot) as FeedEntry;
    const entry: FeedEntry = { seq, kind: this.kindOf(flags), result: this.readResult(slot), quality: this.readQuality(slot, flags) };
    if (flags & HAS_STAGE) entry.stage = this.counts[slot * COUNTS + STAGE];
    if (flags & HAS_ORIGIN) entry.origin = this.originOf(slot);
    return entry;
  }

  /** Result `seq` as a handover file holds it: its origin, or this feed's (`epoch`) under `controller` when recorded here. */
  handed(seq: number, epoch: string, controller: string): HandedEntry {
    const { seq: _seq, origin, ...rest } = this.entry(seq);
    return { ...rest, origin: origin ?? { epoch, seq, controller } };
  }

  /** The rollout run whose route result `seq` was served under. */
  controller(seq: number): string | undefined {
    return this.strings.text(this.texts[(seq % this.capacity) * STRINGS + CONTROLLER] ?? NO_STRING);
  }

  /** The columns' bytes (outside the JS heap). */
  get bytes(): number {
    return this.present.byteLength + this.flags.byteLength + this.texts.byteLength + this.counts.byteLength + this.numbers.byteLength;
  }

  /** Distinct strings the ring holds (tests). */
  get distinctStrings(): number {
    return this.strings.size;
  }

  /** Results kept whole (tests). */
  get keptWhole(): number {
    return this.whole.size;
  }

  /** Empties the slot of `seq`, letting go of what it held; returns it. */
  private clear(seq: number): number {
    const slot = seq % this.capacity;
    if ((this.flags[slot] ?? 0) & WHOLE) this.whole.delete(slot);
    this.releaseStrings(slot);
    this.present[slot] = 0;
    this.flags[slot] = 0;
    this.presentNow = 0;
    this.flagsNow = 0;
    return slot;
  }

  private releaseStrings(slot: number, except = -1): void {
    const base = slot * STRINGS;
    for (let column = 0; column < STRINGS; column++) {
      if (column === except) continue;
      this.strings.release(this.texts[base + column] ?? NO_STRING);
      this.texts[base + column] = NO_STRING;
    }
  }

  private seal(slot: number, kind: ResultKind): void {
    this.present[slot] = this.presentNow;
    this.flags[slot] = this.flagsNow | (KINDS.indexOf(kind) << KIND_SHIFT);
  }

  /** Kept as an object: what the columns took of it goes, the controller stays (a handover reads it). */
  private keepWhole(slot: number, entry: FeedEntry): void {
    this.releaseStrings(slot, CONTROLLER);
    this.present[slot] = 0;
    this.flags[slot] = WHOLE;
    this.whole.set(slot, entry);
  }

  private setController(slot: number, controller: string | undefined): void {
    if (controller !== undefined) this.texts[slot * STRINGS + CONTROLLER] = this.strings.hold(controller);
  }

  private setString(slot: number, column: number, text: string): void {
    this.texts[slot * STRINGS + column] = this.strings.hold(text);
  }

  /**
   * Writes the object's fields into the slot's columns; false when they cannot give it back exactly. `recorded`: a
   * result of this proxy's, whose text is dropped whatever it is and whose client is `client` when given.
   */
  private writeObject(slot: number, shape: Shape, object: Record<string, unknown>, recorded: boolean, client?: string): boolean {
    let last = -1;
    for (const key in object) {
      const field = shape.byKey.get(key);
      let value = object[key];
      // As JSON has it: a field set to undefined is no field. A recorded result's text is '' whatever it was.
      if (field?.type === EMPTY && recorded) value = '';
      if (value === undefined) continue;
      if (field === undefined || field.order <= last) return false;
      last = field.order;
      if (field.key === 'client' && client !== undefined) value = client;
      if (!this.writeField(slot, field, value, recorded)) return false;
      this.presentNow |= field.bit;
    }
    return true;
  }

  private writeField(slot: number, field: Field, value: unknown, recorded: boolean): boolean {
    switch (field.type) {
      case STRING:
        if (typeof value !== 'string') return false;
        this.setString(slot, field.at, value);
        return true;
      case FLAG:
        if (typeof value !== 'boolean') return false;
        if (value) this.flagsNow |= field.at;
        return true;
      case COUNT:
        if (!isCount(value)) return false;
        this.counts[slot * COUNTS + field.at] = value;
        return true;
      case NUMBER:
        if (typeof value !== 'number') return false;
        this.numbers[slot * NUMBERS + field.at] = value;
        return true;
      case EMPTY:
        return value === '';
      default:
        return isObject(value) && this.writeObject(slot, field.shape as Shape, value, recorded);
    }
  }

  private writeResult(slot: number, result: UpstreamResult, recorded: boolean, client?: string): boolean {
    if (!isObject(result) || !this.writeObject(slot, LAYOUT.result, result, recorded, client)) return false;
    // A recorded result without text gets '' at its end (resultCopy), out of the order the columns give back.
    return !recorded || (this.presentNow & CONTENT_BIT) !== 0;
  }

  /** A recorded result's quality, given back as { ok, reason? } whatever order it came in (qualityCopy). */
  private recordQuality(slot: number, quality: QualityOutcome): boolean {
    if (typeof quality.ok !== 'boolean' || (quality.reason !== undefined && typeof quality.reason !== 'string')) return false;
    if (quality.ok) this.flagsNow |= QUALITY_OK;
    if (quality.reason !== undefined) {
      this.setString(slot, QUALITY_REASON, quality.reason);
      this.flagsNow |= HAS_REASON;
    }
    return true;
  }

  /** A handed-over result's quality, kept as it came: { ok, reason? } in that order. */
  private writeQuality(slot: number, quality: unknown): boolean {
    if (!isObject(quality)) return false;
    let last = -1;
    for (const key in quality) {
      const value = quality[key];
      if (value === undefined) continue;
      const order = key === 'ok' ? 0 : key === 'reason' ? 1 : -1;
      if (order <= last) return false;
      last = order;
      if (order === 0) {
        if (typeof value !== 'boolean') return false;
        if (value) this.flagsNow |= QUALITY_OK;
      } else {
        if (typeof value !== 'string') return false;
        this.setString(slot, QUALITY_REASON, value);
        this.flagsNow |= HAS_REASON;
      }
    }
    // Given back as { ok, reason? }: a quality without `ok` would gain one.
    return last >= 0 && typeof quality.ok === 'boolean';
  }

  private writeStage(slot: number, stage: unknown): boolean {
    if (!isCount(stage)) return false;
    this.counts[slot * COUNTS + STAGE] = stage;
    this.flagsNow |= HAS_STAGE;
    return true;
  }

  /** A handed-over entry, its fields in a handover line's order. */
  private writeHanded(slot: number, handed: HandedEntry): boolean {
    const entry = handed as unknown as Record<string, unknown>;
    let last = -1;
    for (const key in entry) {
      const value = entry[key];
      if (value === undefined) continue;
      const order = ENTRY_ORDER.indexOf(key);
      if (order <= last) return false;
      last = order;
      const written =
        key === 'kind'
          ? KINDS.includes(value as ResultKind)
          : key === 'result'
            ? this.writeResult(slot, value as UpstreamResult, false)
            : key === 'quality'
              ? this.writeQuality(slot, value)
              : key === 'stage'
                ? this.writeStage(slot, value)
                : this.writeOrigin(slot, value);
      if (!written) return false;
    }
    // Given back with kind, result, quality and origin: an entry without one of them would gain it.
    return ['kind', 'result', 'quality', 'origin'].every((key) => entry[key] !== undefined);
  }

  private writeOrigin(slot: number, origin: unknown): boolean {
    if (!isObject(origin)) return false;
    const keys = Object.keys(origin);
    const { epoch, seq, controller } = origin;
    // Given back as { epoch, seq, controller }, its controller the slot's (adopt() set it from this one).
    if (keys.length !== 3 || keys[0] !== 'epoch' || keys[1] !== 'seq' || keys[2] !== 'controller') return false;
    if (typeof epoch !== 'string' || typeof seq !== 'number' || typeof controller !== 'string') return false;
    this.setString(slot, ORIGIN_EPOCH, epoch);
    this.numbers[slot * NUMBERS + ORIGIN_SEQ] = seq;
    this.flagsNow |= HAS_ORIGIN;
    return true;
  }

  private readObject(slot: number, shape: Shape, present: number, flags: number): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    for (const field of shape.fields) {
      if (!(present & field.bit)) continue;
      switch (field.type) {
        case STRING:
          object[field.key] = this.strings.text(this.texts[slot * STRINGS + field.at] ?? NO_STRING);
          break;
        case FLAG:
          object[field.key] = (flags & field.at) !== 0;
          break;
        case COUNT:
          object[field.key] = this.counts[slot * COUNTS + field.at];
          break;
        case NUMBER:
          object[field.key] = this.numbers[slot * NUMBERS + field.at];
          break;
        case EMPTY:
          object[field.key] = '';
          break;
        default:
          object[field.key] = this.readObject(slot, field.shape as Shape, present, flags);
      }
    }
    return object;
  }

  private readResult(slot: number): UpstreamResult {
    return this.readObject(slot, LAYOUT.result, this.present[slot] ?? 0, this.flags[slot] ?? 0) as unknown as UpstreamResult;
  }

  private readQuality(slot: number, flags: number): FeedEntry['quality'] {
    const ok = (flags & QUALITY_OK) !== 0;
    if (!(flags & HAS_REASON)) return ok ? PASSED : NOT_PASSED;
    return { ok, reason: this.strings.text(this.texts[slot * STRINGS + QUALITY_REASON] ?? NO_STRING) };
  }

  private kindOf(flags: number): ResultKind {
    return KINDS[(flags >>> KIND_SHIFT) & 3] as ResultKind;
  }

  private originOf(slot: number): FeedOrigin {
    return {
      epoch: this.strings.text(this.texts[slot * STRINGS + ORIGIN_EPOCH] ?? NO_STRING) as string,
      seq: this.numbers[slot * NUMBERS + ORIGIN_SEQ] as number,
      controller: this.controller(slot) ?? '',
    };
  }
}
