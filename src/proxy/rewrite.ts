// The application's request body made into one arm's: `model` replaced (and the arm's adaptation applied).
// Re-serialising the whole body costs as much as the rest of the proxy's work for a long conversation, so when
// the arm's adaptation leaves the body alone, only the bytes of the model's value are replaced; anything the
// scan cannot place with certainty (an escaped key, a duplicate key) falls back to parse + stringify.
import type { ForwardTarget } from './forward-types.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const MODEL_KEY = '"model"';

/**
 * Index just past the string token opening at `start`, or -1 when it never closes. Not json-spelling's stringEnd,
 * which checks each character against the grammar: the text here is valid JSON already (JSON.parse read it), and
 * V8's indexOf to the next quote is 3-7x faster than that loop on a body's walk (modelValueSpan: a 209 B body 0.42
 * against 1.47 us, a 60-turn conversation 7.2 against 51.8; docs/benchmarks-history.md, session 31).
 */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote < 0) return -1;
    // A quote after an odd run of backslashes is escaped.
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

function skipSpace(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/**
 * Where the value of the top-level `"model"` key sits in a JSON object's text (start, end: the string token
 * with its quotes), when it is a string; undefined when it is not there, not a string, appears twice, or a
 * top-level key is written with escapes (it could spell "model"). `text` must already be valid JSON.
 */
export function modelValueSpan(text: string): [number, number] | undefined {
  let depth = 0;
  let found: [number, number] | undefined;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      if (depth === 1) {
        const after = skipSpace(text, end);
        if (text.charCodeAt(after) === COLON) {
          // A key of the top-level object.
          for (let k = i + 1; k < end - 1; k++) if (text.charCodeAt(k) === BACKSLASH) return undefined;
          if (end - i === MODEL_KEY.length && text.startsWith(MODEL_KEY, i)) {
            if (found) return undefined;
            const value = skipSpace(text, after + 1);
            if (text.charCodeAt(value) !== QUOTE) return undefined;
            const valueEnd = stringEnd(text, value);
            if (valueEnd < 0) return undefined;
            found = [value, valueEnd];
            i = valueEnd;
            continue;
          }
        }
      }
      i = end;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
    i++;
  }
  return found;
}

/** What a splice needs to know of a body's text (spelled()). */
interface Spelled {
  /** How many times the text spells `"model"`. */
  models: number;
  /** Where it spells it last. */
  modelAt: number;
  /** And `"stream"`. */
  streams: number;
  /** It holds a \u escape (the only way to spell a key "model" or "stream" otherwise). */
  escape: boolean;
}

/**
 * How a body's text spells `"model"` and `"stream"`, and whether it holds a \u escape, in one regex scan. V8's
 * indexOf for each key twice and for the escape once cost several times as much (a 13 KB conversation: about 75
 * against 12-20 us, as much as its JSON.parse). The regex counts matches that do not overlap; in valid JSON
 * (`text` always is) no two of them can: a quote that opens or closes a string token is never next to a letter.
 */
function spelled(text: string): Spelled {
  const found: Spelled = { models: 0, modelAt: -1, streams: 0, escape: false };
  // `"model"`, `"stream"` and a \u escape; once an escape is found, the keys alone. Made per call, not shared:
  // a global regex carries its scan's position (lastIndex).
  let pattern = /"model"|"stream"|\\u/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const second = text.charCodeAt(match.index + 1);
    if (second === 0x6d) {
      found.models++;
      found.modelAt = match.index;
    } else if (second === 0x73) found.streams++;
    else {
      found.escape = true;
      const keys = /"model"|"stream"/g;
      keys.lastIndex = pattern.lastIndex;
      pattern = keys;
    }
  }
  return found;
}

/**
 * The text spells `"model"` once and has no \u escape: its one model key is the one JSON.parse read. A body naming
 * its model twice is re-serialised, not passed on, because an upstream may read the other one (first key wins in
 * some parsers, last in JSON.parse).
 */
function namesModelOnce(found: Spelled): boolean {
  return found.models === 1 && !found.escape;
}

/**
 * The text spells `"stream"` at most once. Twice (a key and a value "stream" alike) and the body is re-serialised:
 * with two stream keys the upstream may read the other one, and answer a stream the proxy does not read as one.
 * A key spelled with an escape ("str\u0065am", "stream" to JSON.parse, whose last duplicate wins) is not counted
 * here: no body with an escaped top-level key is passed on as it is (namesModelOnce refuses any \u escape,
 * modelValueSpan an escaped top-level key), so such a body is re-serialised with the one `stream` the proxy read
 * (test/proxy/hostile.test.ts).
 */
function namesStreamAtMostOnce(found: Spelled): boolean {
  return found.streams <= 1;
}

/**
 * Where the model's value sits (its string token), placed from the scan when the text spells `"model"` once and
 * holds no \u escape, and `body` (JSON.parse's reading of `text`) names a string model: a top-level key read as
 * "model" is spelled `"model"` in the text then (no other escape yields any of its letters), so the one place
 * that spells it is that key, and no walk of the whole body is needed. Otherwise (and, defensively, if the key is
 * not followed as JSON requires) modelValueSpan walks the body.
 */
function modelSpan(text: string, found: Spelled, body: Readonly<Record<string, unknown>>): [number, number] | undefined {
  if (namesModelOnce(found) && typeof body.model === 'string') {
    const colon = skipSpace(text, found.modelAt + MODEL_KEY.length);
    const value = skipSpace(text, colon + 1);
    const end = text.charCodeAt(colon) === COLON && text.charCodeAt(value) === QUOTE ? stringEnd(text, value) : -1;
    if (end >= 0) return [value, end];
  }
  return modelValueSpan(text);
}

/**
 * The body naming `model` by a splice of the raw text (the raw bytes when it already names it), or undefined when
 * the scan cannot place the model with certainty (an escaped key, a duplicate model or stream key): re-serialise.
 */
function splicedModel(raw: Buffer, text: string, body: Readonly<Record<string, unknown>>, model: string): Buffer | string | undefined {
  const found = spelled(text);
  if (!namesStreamAtMostOnce(found)) return undefined;
  const same = body.model === model;
  if (same && namesModelOnce(found)) return raw;
  const span = modelSpan(text, found, body);
  // A span means one top-level model key, spelled plainly: the upstream reads the model the proxy read.
  if (span) return same ? raw : text.slice(0, span[0]) + JSON.stringify(model) + text.slice(span[1]);
  return undefined;
}

/** The request body for `target`: the raw bytes when nothing changes, a splice of the model when only it does. */
export function bodyForArm(raw: Buffer, text: string, body: Readonly<Record<string, unknown>>, target: ForwardTarget): Buffer | string {
  const spliced = target.keepsBody(body) ? splicedModel(raw, text, body, target.bodyModel) : undefined;
  return spliced ?? JSON.stringify(target.prepare(body));
}

/**
 * A passed-through request's body: the raw bytes when they name one model, plainly (the one the proxy checked
 * against proxy.passthrough); re-serialised otherwise, as a second `model` key, or one spelled with escapes, could
 * be the one the upstream reads: a model the list refuses, slipped past it.
 */
export function passthroughBody(raw: Buffer, text: string, body: Readonly<Record<string, unknown>>): Buffer | string {
  const found = spelled(text);
  return namesStreamAtMostOnce(found) && (namesModelOnce(found) || modelValueSpan(text) !== undefined) ? raw : JSON.stringify(body);
}

/** The body with `model` set to `model` and nothing else changed: a splice where the scan places it, else re-serialised. */
export function bodyWithModel(raw: Buffer, text: string, body: Readonly<Record<string, unknown>>, model: string): Buffer | string {
  return splicedModel(raw, text, body, model) ?? JSON.stringify({ ...body, model });
}
