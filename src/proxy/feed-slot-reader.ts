// Reads a feed entry back out of a slot of the ring's columns (feed-ring.ts), its fields in the order the proxy
// made them, so its JSON is byte for byte the one the object gave.
import type { UpstreamResult } from '../upstream/types.js';
import type { FeedColumns } from './feed-columns.js';
import * as layout from './feed-layout.js';
import type { Shape } from './feed-layout.js';
import type { ResultKind } from './metrics.js';
import type { FeedEntry } from './results-feed.js';

// Module-local copies: V8 folds them into the hot path, which it does not through import bindings (record() cost
// ~8% more CPU so, A/B at load 25).
const {
  CONTROLLER,
  COUNT,
  EMPTY,
  FLAG,
  HAS_ORIGIN,
  HAS_REASON,
  HAS_STAGE,
  KIND_SHIFT,
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

/** A quality outcome without a reason, shared by every entry that has it (most: an answer that passed). */
export const PASSED: FeedEntry['quality'] = Object.freeze({ ok: true });
export const NOT_PASSED: FeedEntry['quality'] = Object.freeze({ ok: false });

/** Entry `seq` from its slot, which holds it in columns (not WHOLE). */
export function readEntry(columns: FeedColumns, slot: number, seq: number): FeedEntry {
  const flags = columns.flags[slot] ?? 0;
  const result = readObject(columns, slot, LAYOUT.result, columns.present[slot] ?? 0, flags) as unknown as UpstreamResult;
  const entry: FeedEntry = { seq, kind: KINDS[(flags >>> KIND_SHIFT) & 3] as ResultKind, result, quality: readQuality(columns, slot, flags) };
  if (flags & HAS_STAGE) entry.stage = columns.count(slot, STAGE);
  if (flags & HAS_ORIGIN) {
    entry.origin = {
      epoch: columns.text(slot, ORIGIN_EPOCH) as string,
      seq: columns.number(slot, ORIGIN_SEQ),
      controller: columns.text(slot, CONTROLLER) ?? '',
    };
  }
  return entry;
}

function readObject(columns: FeedColumns, slot: number, shape: Shape, present: number, flags: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const field of shape.fields) {
    if (!(present & field.bit)) continue;
    switch (field.type) {
      case STRING:
        object[field.key] = columns.text(slot, field.at);
        break;
      case FLAG:
        object[field.key] = (flags & field.at) !== 0;
        break;
      case COUNT:
        object[field.key] = columns.count(slot, field.at);
        break;
      case NUMBER:
        object[field.key] = columns.number(slot, field.at);
        break;
      case EMPTY:
        object[field.key] = '';
        break;
      default:
        object[field.key] = readObject(columns, slot, field.shape as Shape, present, flags);
    }
  }
  return object;
}

function readQuality(columns: FeedColumns, slot: number, flags: number): FeedEntry['quality'] {
  const ok = (flags & QUALITY_OK) !== 0;
  if (!(flags & HAS_REASON)) return ok ? PASSED : NOT_PASSED;
  return { ok, reason: columns.text(slot, QUALITY_REASON) };
}
