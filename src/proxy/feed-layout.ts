// Where each field of a results feed entry goes in the ring's columns (feed-ring.ts): its type, its column, its
// bit, and its place in the order the proxy makes it (forward-result.ts; a handover line, handover-writer.ts).
import type { ResultKind } from './metrics.js';

export const STRING = 0;
/** A boolean: its value is a bit of the slot's flags. */
export const FLAG = 1;
/** A whole number from 0 to 2^32 - 1 (status, attempts, token counts). */
export const COUNT = 2;
/** Any number (latencies). */
export const NUMBER = 3;
/** The answer's text, never kept: always ''. */
export const EMPTY = 4;
const OBJECT = 5;

export interface Field {
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

export interface Shape {
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
    ['neutral', FLAG],
  ]);
  return { result, strings: counters[STRING], counts: counters[COUNT], numbers: counters[NUMBER], flags: counters.flags };
}

export const LAYOUT = resultLayout();
// Beside the result's own: the entry's quality, stage, origin and the rollout run whose route served it.
export const QUALITY_REASON = LAYOUT.strings;
export const CONTROLLER = LAYOUT.strings + 1;
export const ORIGIN_EPOCH = LAYOUT.strings + 2;
/** String columns a slot. */
export const STRINGS = LAYOUT.strings + 3;
export const STAGE = LAYOUT.counts;
/** Count columns a slot. */
export const COUNTS = LAYOUT.counts + 1;
export const ORIGIN_SEQ = LAYOUT.numbers;
/** Number columns a slot. */
export const NUMBERS = LAYOUT.numbers + 1;
export const KIND_SHIFT = LAYOUT.flags;
export const QUALITY_OK = 1 << (KIND_SHIFT + 2);
export const HAS_REASON = QUALITY_OK << 1;
export const HAS_STAGE = QUALITY_OK << 2;
export const HAS_ORIGIN = QUALITY_OK << 3;
/** Kept as the object it came as (FeedRing's whole entries). */
export const WHOLE = QUALITY_OK << 4;
export const CONTENT_BIT = (LAYOUT.result.byKey.get('content') as Field).bit;
export const KINDS: readonly ResultKind[] = ['routed', 'fallback', 'mirror'];
/** The entry's own fields, in the order a handover line has them (handover-writer.ts). */
export const ENTRY_ORDER: readonly string[] = ['kind', 'result', 'quality', 'stage', 'origin'];
