// A JSON text's spelling: its literal text around a few value tokens (holes) that may differ from one text to the
// next. A later text that is the same literal text with JSON tokens of the holes' kinds in the holes parses, by
// the JSON grammar, to the same value but for those tokens, so what a reader takes from the holes (and from the
// literal text, once) is what JSON.parse would give, without the parse. The OpenAI stream's chunks
// (openai-delta.ts) and whole non-streamed answers (openai-answer.ts) are read so.

/** Whether `c` is an ASCII digit. */
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * The end of the JSON string token at `at` of `data`, exactly as the grammar spells one (no raw control
 * character, only its escapes), or -1. A loop, not a sticky regex: a regex call cost ~100-200 ns a token whatever
 * its length, more than the rest of a walk (docs/benchmarks-history.md, session 30).
 */
export function stringEnd(data: string, at: number): number {
  if (data.charCodeAt(at) !== 0x22) return -1;
  const n = data.length;
  for (let i = at + 1; i < n; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -1;
    if (c !== 0x5c) continue;
    const e = data.charCodeAt(++i);
    if (e === 0x75) {
      if (!(isHex(data.charCodeAt(i + 1)) && isHex(data.charCodeAt(i + 2)) && isHex(data.charCodeAt(i + 3)) && isHex(data.charCodeAt(i + 4)))) return -1;
      i += 4;
    } else if (!(e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) return -1;
  }
  return -1;
}

/** The end of the digits from `i` of `data`. */
function digitsEnd(data: string, i: number): number {
  while (isDigit(data.charCodeAt(i))) i++;
  return i;
}

/**
 * The end of the longest JSON number token at `at` of `data` (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), or
 * -1. A fraction or exponent not followed by a digit is not part of it (the text after it must then match).
 */
export function numberEnd(data: string, at: number): number {
  let i = data.charCodeAt(at) === 0x2d ? at + 1 : at;
  const first = data.charCodeAt(i);
  if (first === 0x30) i++;
  else if (first >= 0x31 && first <= 0x39) i = digitsEnd(data, i + 1);
  else return -1;
  if (data.charCodeAt(i) === 0x2e && isDigit(data.charCodeAt(i + 1))) i = digitsEnd(data, i + 2);
  const e = data.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    const sign = data.charCodeAt(i + 1);
    const digits = sign === 0x2b || sign === 0x2d ? i + 2 : i + 1;
    if (isDigit(data.charCodeAt(digits))) i = digitsEnd(data, digits + 1);
  }
  return i;
}

/** The end of the token of a hole's kind at `at` of `data`, or -1. */
function tokenEnd(numeric: boolean, data: string, at: number): number {
  return numeric ? numberEnd(data, at) : stringEnd(data, at);
}

/** A text's spelling: its literal text and the kinds of the holes between. */
export interface Spelling {
  /** Literal text between the holes (one more than the holes). */
  parts: string[];
  /** Per hole: a number token (true) or a string token (false). */
  numeric: boolean[];
  /** A part that texts of other kinds seldom hold, looked for before a full walk. */
  mark: string;
}

/** Where a value sits while a text is walked: one frame per object or array it is inside, outermost first. */
export interface Frame {
  array: boolean;
  /** Objects: the key being read (or just read). Arrays: unused. */
  key: string;
  wantKey: boolean;
  /** Arrays: the index of the element being read. */
  index: number;
  /** Objects: the keys read so far. */
  keys: Set<string>;
}

/** A hole of a spelling: its span in the text, a number (true) or a string, and the role its reader gave it. */
type Hole = [start: number, end: number, numeric: boolean, role: number];

/** pick's answer for a value that is no hole (left in the literal text). */
export const LITERAL = -1;
/** pick's answer when the text is not one to learn a spelling from. */
export const REFUSE = -2;

/**
 * What the value token at `start`..`end` of `text`, inside the frames of `path`, is: a hole (its role, >= 0),
 * LITERAL, or REFUSE.
 */
type HolePick = (path: readonly Frame[], numeric: boolean, text: string, start: number, end: number) => number;

/**
 * The holes `pick` chooses among the value tokens of `text`, valid JSON (JSON.parse read it), in order. Undefined
 * when pick refuses one, or when a key is spelled with an escape or twice in one object: a key's own spelling is
 * then not the key JSON.parse reads, or not the value it keeps (the last), so a hole could be read in its stead.
 */
export function holesOf(text: string, pick: HolePick): Hole[] | undefined {
  const holes: Hole[] = [];
  const stack: Frame[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (end < 0 || !top) return undefined;
      if (!top.array && top.wantKey) {
        const key = text.slice(i + 1, end - 1);
        if (key.includes('\\') || top.keys.has(key)) return undefined;
        top.keys.add(key);
        top.key = key;
      } else {
        const role = pick(stack, false, text, i, end);
        if (role === REFUSE) return undefined;
        if (role >= 0) holes.push([i, end, false, role]);
      }
      i = end - 1;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      // Outside a string a digit or minus only ever opens a number token: the whole token is read here.
      const end = numberEnd(text, i);
      if (!top || end < 0) return undefined;
      const role = pick(stack, true, text, i, end);
      if (role === REFUSE) return undefined;
      if (role >= 0) holes.push([i, end, true, role]);
      i = end - 1;
    } else if (c === 0x7b) stack.push({ array: false, key: '', wantKey: true, index: 0, keys: new Set() });
    else if (c === 0x5b) stack.push({ array: true, key: '', wantKey: false, index: 0, keys: new Set() });
    else if (c === 0x7d || c === 0x5d) stack.pop();
    else if (c === 0x3a && top) top.wantKey = false;
    else if (c === 0x2c && top) {
      if (top.array) top.index++;
      else top.wantKey = true;
    }
  }
  return holes;
}

/** The spelling of `text` with `holes`: the literal text between them (one more than the holes); `mark`: see Spelling. */
export function spellingOf(text: string, holes: readonly Hole[], mark: (parts: readonly string[]) => string): Spelling {
  const parts: string[] = [];
  let from = 0;
  for (const [start, end] of holes) {
    parts.push(text.slice(from, start));
    from = end;
  }
  parts.push(text.slice(from));
  return { parts, numeric: holes.map((hole) => hole[2]), mark: mark(parts) };
}

/** The longest part: the mark of a text kept whole. */
export function longestPart(parts: readonly string[]): string {
  return parts.reduce((a, b) => (b.length > a.length ? b : a), '');
}

/**
 * The text of the JSON string token at `start` to `end` of `data`: what lies between its quotes when it holds no
 * escape (most texts), one slice; else its decoding. The token is valid JSON (stringEnd found it).
 */
export function stringAt(data: string, start: number, end: number): string {
  const inner = data.slice(start + 1, end - 1);
  return inner.includes('\\') ? (JSON.parse(data.slice(start, end)) as string) : inner;
}

/**
 * Walks `data` along the spelling's parts: the text of hole `want` (a string hole: its decoded text), '' when
 * `want` is -1, or undefined when `data` is not the spelling with tokens of the holes' kinds in its holes. With
 * `from` > 0 the walk starts at hole `from`, at offset `at`: what comes before it was matched already. `spans`,
 * when given, gets hole k's start and end at 2k and 2k + 1.
 */
export function holeText(spelling: Spelling, data: string, want: number, from = 0, at = 0, spans?: number[]): string | undefined {
  const { parts, numeric } = spelling;
  let text = '';
  if (from === 0) {
    // One search for the mark turns away most texts of another kind (a role chunk against the content template
    // or the finish chunk's, a usage chunk against any) before a walk of a slice and a regex a hole.
    if (!data.includes(spelling.mark)) return undefined;
    if (!partAt(data, at, parts[0] as string)) return undefined;
    at += (parts[0] as string).length;
  }
  for (let k = from; k < parts.length - 1; k++) {
    const end = tokenEnd(numeric[k] as boolean, data, at);
    if (end < 0) return undefined;
    if (k === want) text = stringAt(data, at, end);
    if (spans) {
      // Set by place, not pushed after a reset: an array emptied by `length = 0` drops its store and grows anew.
      spans[2 * k] = at;
      spans[2 * k + 1] = end;
    }
    at = end;
    const part = parts[k + 1] as string;
    if (!partAt(data, at, part)) return undefined;
    at += part.length;
  }
  return at === data.length ? text : undefined;
}

/** Whether `data` holds `part` at `at`. slice + === rather than startsWith(part, at): several times faster in V8. */
export function partAt(data: string, at: number, part: string): boolean {
  return data.slice(at, at + part.length) === part;
}

/** Where hole `hole` begins in `data`, which the spelling matched whole. */
export function holeStart({ parts, numeric }: Spelling, data: string, hole: number): number {
  let at = (parts[0] as string).length;
  for (let k = 0; k < hole; k++) at = tokenEnd(numeric[k] as boolean, data, at) + (parts[k + 1] as string).length;
  return at;
}
