// Writes one feed entry into a slot of the ring's columns (feed-ring.ts), or says it cannot: each write returns
// false for an entry the columns could not give back byte for byte (a field this version does not know, a value of
// another type, another order), which the ring then keeps whole.
import type { QualityOutcome } from '../analysis/quality.js';
import { isObject } from '../core/json.js';
import type { UpstreamResult } from '../upstream/types.js';
import type { FeedColumns } from './feed-columns.js';
import * as layout from './feed-layout.js';
import type { Field, Shape } from './feed-layout.js';
import type { ResultKind } from './metrics.js';
import type { HandedEntry } from './results-feed.js';

// Module-local copies: V8 folds them into the hot path, which it does not through import bindings (record() cost
// ~8% more CPU so, A/B at load 25).
const {
  CONTENT_BIT,
  COUNT,
  EMPTY,
  ENTRY_ORDER,
  FLAG,
  HAS_ORIGIN,
  HAS_REASON,
  HAS_STAGE,
  KINDS,
  LAYOUT,
  NUMBER,
  ORIGIN_EPOCH,
  ORIGIN_SEQ,
  QUALITY_OK,
  QUALITY_REASON,
  STAGE,
  STRING,
} = layout;

const isCount = (value: unknown): value is number => typeof value === 'number' && value >>> 0 === value;

/** One per ring, reused for each entry: begin() a slot, write its parts, then the ring seals present and flags. */
export class SlotWriter {
  private slot = 0;
  /** The fields written so far (Field.bit): the slot's presence word once sealed. */
  present = 0;
  /** The booleans, quality and HAS_ bits written so far: the slot's flags once sealed (with its kind). */
  flags = 0;

  constructor(private readonly columns: FeedColumns) {}

  begin(slot: number): void {
    this.slot = slot;
    this.present = 0;
    this.flags = 0;
  }

  /** `recorded`: a result of this proxy's, whose text is dropped whatever it is and whose client is `client` when given. */
  writeResult(result: UpstreamResult, recorded: boolean, client?: string): boolean {
    if (!isObject(result) || !this.writeObject(LAYOUT.result, result, recorded, client)) return false;
    // A recorded result without text gets '' at its end (the ring's copy), out of the order the columns give back.
    return !recorded || (this.present & CONTENT_BIT) !== 0;
  }

  /** A recorded result's quality, given back as { ok, reason? } whatever order it came in. */
  recordQuality(quality: QualityOutcome): boolean {
    if (typeof quality.ok !== 'boolean' || (quality.reason !== undefined && typeof quality.reason !== 'string')) return false;
    if (quality.ok) this.flags |= QUALITY_OK;
    if (quality.reason !== undefined) this.writeReason(quality.reason);
    return true;
  }

  writeStage(stage: unknown): boolean {
    if (!isCount(stage)) return false;
    this.columns.setCount(this.slot, STAGE, stage);
    this.flags |= HAS_STAGE;
    return true;
  }

  /** A handed-over entry, its fields in a handover line's order. */
  writeHanded(handed: HandedEntry): boolean {
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
            ? this.writeResult(value as UpstreamResult, false)
            : key === 'quality'
              ? this.writeQuality(value)
              : key === 'stage'
                ? this.writeStage(value)
                : this.writeOrigin(value);
      if (!written) return false;
    }
    // Given back with kind, result, quality and origin: an entry without one of them would gain it.
    return ['kind', 'result', 'quality', 'origin'].every((key) => entry[key] !== undefined);
  }

  /** Writes the object's fields into the slot's columns. */
  private writeObject(shape: Shape, object: Record<string, unknown>, recorded: boolean, client?: string): boolean {
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
      if (!this.writeField(field, value, recorded)) return false;
      this.present |= field.bit;
    }
    return true;
  }

  private writeField(field: Field, value: unknown, recorded: boolean): boolean {
    switch (field.type) {
      case STRING:
        if (typeof value !== 'string') return false;
        this.columns.setText(this.slot, field.at, value);
        return true;
      case FLAG:
        if (typeof value !== 'boolean') return false;
        if (value) this.flags |= field.at;
        return true;
      case COUNT:
        if (!isCount(value)) return false;
        this.columns.setCount(this.slot, field.at, value);
        return true;
      case NUMBER:
        if (typeof value !== 'number') return false;
        this.columns.setNumber(this.slot, field.at, value);
        return true;
      case EMPTY:
        return value === '';
      default:
        return isObject(value) && this.writeObject(field.shape as Shape, value, recorded);
    }
  }

  /** A handed-over result's quality, kept as it came: { ok, reason? } in that order. */
  private writeQuality(quality: unknown): boolean {
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
        if (value) this.flags |= QUALITY_OK;
      } else {
        if (typeof value !== 'string') return false;
        this.writeReason(value);
      }
    }
    // Given back as { ok, reason? }: a quality without `ok` would gain one.
    return last >= 0 && typeof quality.ok === 'boolean';
  }

  private writeReason(reason: string): void {
    this.columns.setText(this.slot, QUALITY_REASON, reason);
    this.flags |= HAS_REASON;
  }

  private writeOrigin(origin: unknown): boolean {
    if (!isObject(origin)) return false;
    const keys = Object.keys(origin);
    const { epoch, seq, controller, sent } = origin;
    // Given back as { epoch, seq, controller, sent? }, its controller the slot's (the ring's adopt() set it from this
    // one), its `sent` beside the columns (the ring's adopt() keeps it): a whole number above 0, as the ring holds them.
    if (keys.length < 3 || keys.length > 4 || keys[0] !== 'epoch' || keys[1] !== 'seq' || keys[2] !== 'controller') return false;
    if (keys.length === 4 && (keys[3] !== 'sent' || !isCount(sent) || sent === 0)) return false;
    if (typeof epoch !== 'string' || typeof seq !== 'number' || typeof controller !== 'string') return false;
    this.columns.setText(this.slot, ORIGIN_EPOCH, epoch);
    this.columns.setNumber(this.slot, ORIGIN_SEQ, seq);
    this.flags |= HAS_ORIGIN;
    return true;
  }
}
