// A request body's top level read without JSON.parse building the whole tree: the proxy reads a few top-level
// fields (model, stream, the sticky ids, the adaptation's keys) and passes the rest on as bytes, so the messages
// (most of a body) need only be checked as JSON, not made into objects. Nested values are parsed when first read.
// The scan accepts only what it is sure of; anything else (invalid JSON among it) is left to JSON.parse, which
// says why a body is refused.
import { numberEnd, stringAt, stringEnd } from '../upstream/json-spelling.js';

/** Deepest nesting the scan follows (bits of its stack); deeper bodies are left to JSON.parse. */
const MAX_DEPTH = 30;

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;

/** JSON's whitespace: space, tab, line feed, carriage return. */
function spaceEnd(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** The end of `word` (true, false, null) at `at`, or -1. */
function wordEnd(text: string, at: number, word: string): number {
  return text.slice(at, at + word.length) === word ? at + word.length : -1;
}

/** The end of the scalar token at `at` (string, number, true, false, null), or -1. */
function scalarEnd(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (c === QUOTE) return stringEnd(text, at);
  if (c === 0x74) return wordEnd(text, at, 'true');
  if (c === 0x66) return wordEnd(text, at, 'false');
  if (c === 0x6e) return wordEnd(text, at, 'null');
  return numberEnd(text, at);
}

/** After an object's key at `at` (its string, the colon, the space around): where its value begins, or -1. */
function afterKey(text: string, at: number): number {
  const end = stringEnd(text, at);
  if (end < 0) return -1;
  const colon = spaceEnd(text, end);
  return text.charCodeAt(colon) === COLON ? spaceEnd(text, colon + 1) : -1;
}

/**
 * The end of the JSON value at `at` of `text` (no space before it), checked against the grammar; -1 when it is not
 * one, or nests deeper than MAX_DEPTH. A loop with the open containers as bits (1: an array), not a recursion.
 */
export function valueEnd(text: string, at: number): number {
  let stack = 0;
  let depth = 0;
  let i = at;
  for (;;) {
    // A value begins at i.
    const c = text.charCodeAt(i);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const array = c === OPEN_ARRAY;
      i = spaceEnd(text, i + 1);
      if (text.charCodeAt(i) === (array ? CLOSE_ARRAY : CLOSE_OBJECT)) i++;
      else {
        if (++depth > MAX_DEPTH) return -1;
        stack = stack * 2 + (array ? 1 : 0);
        if (!array && (i = afterKey(text, i)) < 0) return -1;
        continue;
      }
    } else if ((i = scalarEnd(text, i)) < 0) return -1;
    // A value ended at i: close the containers it ends, or go on to the next value.
    for (;;) {
      if (depth === 0) return i;
      i = spaceEnd(text, i);
      const next = text.charCodeAt(i);
      const array = stack % 2 === 1;
      if (next === COMMA) {
        i = spaceEnd(text, i + 1);
        if (!array && (i = afterKey(text, i)) < 0) return -1;
        break;
      }
      if (next !== (array ? CLOSE_ARRAY : CLOSE_OBJECT)) return -1;
      i++;
      depth--;
      stack = Math.floor(stack / 2);
    }
  }
}

/** A nested value, parsed from its text when first read; then a plain property, as JSON.parse would have made it. */
function defineLazy(body: Record<string, unknown>, key: string, source: string): void {
  const settle = (value: unknown): void => {
    Object.defineProperty(body, key, { value, writable: true, enumerable: true, configurable: true });
  };
  Object.defineProperty(body, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      const value: unknown = JSON.parse(source);
      settle(value);
      return value;
    },
    set: settle,
  });
}

/**
 * What JSON.parse(text) gives when `text` is a JSON object (space around it allowed), its nested values parsed
 * when first read; undefined when the scan is not sure: not valid JSON, not an object, a key given twice or spelled
 * `__proto__` (JSON.parse makes it an own property, an assignment would not), nesting deeper than MAX_DEPTH.
 */
export function scanObject(text: string): Record<string, unknown> | undefined {
  let i = spaceEnd(text, 0);
  if (text.charCodeAt(i) !== OPEN_OBJECT) return undefined;
  const body: Record<string, unknown> = {};
  i = spaceEnd(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_OBJECT) i++;
  else {
    for (;;) {
      const keyEnd = stringEnd(text, i);
      if (keyEnd < 0) return undefined;
      const key = stringAt(text, i, keyEnd);
      if (key === '__proto__' || Object.hasOwn(body, key)) return undefined;
      const colon = spaceEnd(text, keyEnd);
      if (text.charCodeAt(colon) !== COLON) return undefined;
      const start = spaceEnd(text, colon + 1);
      const end = valueEnd(text, start);
      if (end < 0) return undefined;
      const c = text.charCodeAt(start);
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) defineLazy(body, key, text.slice(start, end));
      else if (c === QUOTE) body[key] = stringAt(text, start, end);
      else if (c === 0x74) body[key] = true;
      else if (c === 0x66) body[key] = false;
      else if (c === 0x6e) body[key] = null;
      else body[key] = Number(text.slice(start, end));
      i = spaceEnd(text, end);
      const next = text.charCodeAt(i);
      if (next === CLOSE_OBJECT) {
        i++;
        break;
      }
      if (next !== COMMA) return undefined;
      i = spaceEnd(text, i + 1);
    }
  }
  return spaceEnd(text, i) === text.length ? body : undefined;
}
