// A fast path for the commonest OpenAI stream chunk, one that carries only a text delta. Most chunks of a
// stream are spelled exactly alike but for their text (and a few fields nothing reads: id, obfuscation,
// system_fingerprint), so once a chunk was parsed in full and found to be plain text, its spelling becomes a
// template: the literal text around those string values. A later chunk that is the template with other JSON
// string tokens in those places parses, by the JSON grammar, to the same object but for those strings, so its
// delta is read without JSON.parse. Anything else (another spelling, whitespace, a finish reason, usage, an
// error, any escape in the template's own text) misses and is parsed in full: the fast path never decides
// differently from the full parse, it only skips it. `created` (a number) is a hole too, so one upstream's
// templates serve all its streams (TemplateMemory), not only the one that learnt them. Chunks that recur whole
// but for those unread values (the role chunk opening a stream, the finish chunk) are kept whole: the parsed
// chunk stands for every later chunk spelled like it.
import { isObject } from './shape.js';

/**
 * Sticky patterns of JSON tokens, matched at a given offset. Each carries its position (lastIndex), so a set is
 * made per template (Spelling.tokens), not per module: a walk sets lastIndex before each test and runs to its end
 * synchronously, so the streams sharing a template cannot interleave within one. Not one set a walk: two regex
 * objects a chunk cost ~25 ns of the stream's reading each time (docs/benchmarks.md, session 29).
 */
interface Tokens {
  /** One JSON string token, exactly as the JSON grammar spells it. */
  string: RegExp;
  /** One JSON number token, exactly as the JSON grammar spells it. */
  number: RegExp;
}

function jsonTokens(): Tokens {
  return {
    string: /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y,
    number: /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y,
  };
}
/** Top-level string fields the stream reader never reads: their values may differ from chunk to chunk. */
const UNREAD = new Set(['id', 'obfuscation', 'system_fingerprint']);
/** Top-level number fields it never reads: `created` differs from one stream to the next. */
const UNREAD_NUMBERS = new Set(['created']);

/** A chunk's spelling: its literal text and the kinds of the holes between. */
interface Spelling {
  /** Literal text between the holes (one more than the holes). */
  parts: string[];
  /** Per hole: a number token (true) or a string token (false). */
  numeric: boolean[];
  /**
   * A part that chunks of other kinds seldom hold, looked for before a full walk: for a content template the one
   * just before the text (`"delta":{"content":`), for a whole template the longest (its delta, finish reason...).
   */
  mark: string;
  /** The token patterns its walks use (see Tokens). */
  tokens: Tokens;
}

export interface ContentTemplate extends Spelling {
  /** Which hole is choices[0].delta.content. */
  content: number;
  /** The chunk's `model` when it is a string: the template applies only while that is the served model. */
  model: string | undefined;
  /**
   * The text before the content hole of the last chunk this template read (any stream's). One stream's unread
   * values (id, created, system_fingerprint) are the same in every chunk, so its later chunks start with this
   * text: only their content and what follows it are left to check. An upstream whose streams share them (one id
   * for all) starts every stream's chunks so; otherwise each stream keeps its own start (StreamStart).
   */
  prefix?: string;
}

/**
 * One stream's start: the template that read its last text chunk, and the text before that chunk's content hole.
 * Kept per stream because streams read at once interleave their chunks: a start kept only on the shared template
 * was overwritten by every other stream's chunk, and each chunk then walked the template in full.
 */
export interface StreamStart {
  template?: ContentTemplate;
  prefix?: string;
}

function count(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

interface Frame {
  array: boolean;
  /** Objects: the key being read (or just read). Arrays: unused. */
  key: string;
  wantKey: boolean;
  index: number;
}

type Hole = [start: number, end: number, numeric: boolean];

/**
 * Where the values of `text` that may differ from chunk to chunk sit: the unread top-level fields, and
 * choices[0].delta.content when `content` (its text) is given. `text` is valid JSON without a backslash, so
 * every key spells itself plainly and no string value holds a quote. Undefined when the content is not found
 * where and as expected.
 */
function holesOf(text: string, content: string | undefined): { holes: Hole[]; content: number } | undefined {
  const holes: Hole[] = [];
  let contentHole = -1;
  const stack: Frame[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22) {
      const end = text.indexOf('"', i + 1);
      if (end < 0 || !top) return undefined;
      if (!top.array && top.wantKey) {
        top.key = text.slice(i + 1, end);
      } else if (stack.length === 1 && UNREAD.has(top.key)) {
        holes.push([i, end + 1, false]);
      } else if (
        content !== undefined &&
        stack.length === 4 &&
        top.key === 'content' &&
        stack[2]?.key === 'delta' &&
        stack[1]?.array === true &&
        stack[1].index === 0 &&
        stack[0]?.key === 'choices'
      ) {
        if (text.slice(i + 1, end) !== content) return undefined;
        contentHole = holes.length;
        holes.push([i, end + 1, false]);
      }
      i = end;
    } else if (stack.length === 1 && top && !top.array && !top.wantKey && UNREAD_NUMBERS.has(top.key) && (c === 0x2d || (c >= 0x30 && c <= 0x39))) {
      // A top-level number nothing reads (text is valid JSON: this is its whole token).
      const number = jsonTokens().number;
      number.lastIndex = i;
      if (!number.test(text)) return undefined;
      holes.push([i, number.lastIndex, true]);
      i = number.lastIndex - 1;
    } else if (c === 0x7b) stack.push({ array: false, key: '', wantKey: true, index: 0 });
    else if (c === 0x5b) stack.push({ array: true, key: '', wantKey: false, index: 0 });
    else if (c === 0x7d || c === 0x5d) stack.pop();
    else if (c === 0x3a && top) top.wantKey = false;
    else if (c === 0x2c && top) {
      if (top.array) top.index++;
      else top.wantKey = true;
    }
  }
  if (content !== undefined && contentHole < 0) return undefined;
  return { holes, content: contentHole };
}

/** The spelling of `text` with `holes`: the literal text between them (one more than the holes); `content`: the text's hole. */
function spellingOf(text: string, holes: Hole[], content?: number): Spelling {
  const parts: string[] = [];
  let from = 0;
  for (const [start, end] of holes) {
    parts.push(text.slice(from, start));
    from = end;
  }
  parts.push(text.slice(from));
  return { parts, numeric: holes.map((hole) => hole[2]), mark: markOf(parts, content), tokens: jsonTokens() };
}

function markOf(parts: readonly string[], content: number | undefined): string {
  return content === undefined ? parts.reduce((a, b) => (b.length > a.length ? b : a), '') : (parts[content] as string);
}

/** A content template spelled out by hand (Anthropic's text delta): its parts, holes' kinds and content hole. */
export function handTemplate(parts: string[], numeric: boolean[], content: number): ContentTemplate {
  return { parts, numeric, mark: markOf(parts, content), tokens: jsonTokens(), content, model: undefined };
}

/**
 * The template of `text`, a chunk JSON.parse read as `chunk`, when the stream reader would take nothing from it
 * but choices[0].delta.content (the caller checked that: no error, usage, finish reason, only `content` in the
 * delta). Undefined when the text cannot be a safe template: any backslash, or `choices`, `delta` or `content`
 * spelled other than once.
 */
export function learnTemplate(text: string, chunk: Record<string, unknown>): ContentTemplate | undefined {
  if (text.includes('\\')) return undefined;
  if (count(text, '"choices":') !== 1 || count(text, '"delta":') !== 1 || count(text, '"content":') !== 1) return undefined;
  const choices = chunk.choices;
  const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const delta = isObject(choice) ? choice.delta : undefined;
  if (!isObject(delta) || typeof delta.content !== 'string') return undefined;
  const found = holesOf(text, delta.content);
  if (!found) return undefined;
  const { holes, content } = found;
  return { ...spellingOf(text, holes, content), content, model: typeof chunk.model === 'string' ? chunk.model : undefined };
}

/**
 * A chunk that recurs whole but for the values nothing reads (a stream's opening role chunk, its finish chunk):
 * a later chunk spelled like it parses, by the JSON grammar, to `chunk` but for those values, so `chunk` stands
 * for it and the reader takes from it exactly what it would from the parse.
 */
export interface WholeTemplate extends Spelling {
  /** The chunk as JSON.parse read the text this was learnt from (never changed). */
  chunk: Readonly<Record<string, unknown>>;
}

/** The whole template of `text` (JSON.parse read it as `chunk`); undefined when it holds a backslash. */
export function learnWholeTemplate(text: string, chunk: Record<string, unknown>): WholeTemplate | undefined {
  if (text.includes('\\')) return undefined;
  const found = holesOf(text, undefined);
  if (!found) return undefined;
  return { ...spellingOf(text, found.holes), chunk };
}

/** Whether `data` is `template`'s literal text with JSON tokens of the holes' kinds in its holes. */
export function matchesWhole(template: WholeTemplate, data: string): boolean {
  return holeText(template, data, -1) !== undefined;
}

/**
 * The text of the JSON string token at `start` to `end` of `data`: what lies between its quotes when it holds no
 * escape (most text deltas), one slice; else its decoding. The token is valid JSON (a Tokens pattern matched it).
 */
function stringAt(data: string, start: number, end: number): string {
  const inner = data.slice(start + 1, end - 1);
  return inner.includes('\\') ? (JSON.parse(data.slice(start, end)) as string) : inner;
}

/**
 * Walks `data` along the template's parts: the text of hole `want` (a string hole: its decoded text), '' when
 * `want` is -1, or undefined when `data` is not the template with tokens of the holes' kinds in its holes. With
 * `from` > 0 the walk starts at hole `from`, at offset `at`: what comes before it was matched already.
 */
function holeText(spelling: Spelling, data: string, want: number, from = 0, at = 0): string | undefined {
  const { parts, numeric, tokens } = spelling;
  let text = '';
  if (from === 0) {
    // One search for the mark turns away most chunks of another kind (a role chunk against the content template
    // or the finish chunk's, a usage chunk against any) before a walk of a slice and a regex a hole.
    if (!data.includes(spelling.mark)) return undefined;
    if (!partAt(data, at, parts[0] as string)) return undefined;
    at += (parts[0] as string).length;
  }
  for (let k = from; k < parts.length - 1; k++) {
    const pattern = numeric[k] ? tokens.number : tokens.string;
    pattern.lastIndex = at;
    if (!pattern.test(data)) return undefined;
    if (k === want) text = stringAt(data, at, pattern.lastIndex);
    at = pattern.lastIndex;
    const part = parts[k + 1] as string;
    if (!partAt(data, at, part)) return undefined;
    at += part.length;
  }
  return at === data.length ? text : undefined;
}

/** Whether `data` holds `part` at `at`. slice + === rather than startsWith(part, at): several times faster in V8. */
function partAt(data: string, at: number, part: string): boolean {
  return data.slice(at, at + part.length) === part;
}

/** Where hole `hole` begins in `data`, which the template matched whole. */
function holeStart({ parts, numeric, tokens }: Spelling, data: string, hole: number): number {
  let at = (parts[0] as string).length;
  for (let k = 0; k < hole; k++) {
    const pattern = numeric[k] ? tokens.number : tokens.string;
    pattern.lastIndex = at;
    pattern.test(data);
    at = pattern.lastIndex + (parts[k + 1] as string).length;
  }
  return at;
}

/**
 * The delta text of `data` when it is `template` with JSON tokens of the holes' kinds in them, else undefined.
 * `start`: the stream's own start, looked at first and kept up to date.
 */
export function readWithTemplate(template: ContentTemplate, data: string, start?: StreamStart): string | undefined {
  const { content } = template;
  // Data starting with a start this template read before matched the template up to its content hole already.
  const own = start?.template === template ? start.prefix : undefined;
  if (own !== undefined && partAt(data, 0, own)) return holeText(template, data, content, content, own.length);
  const shared = template.prefix;
  let text: string | undefined;
  if (shared !== undefined && partAt(data, 0, shared)) text = holeText(template, data, content, content, shared.length);
  else {
    text = holeText(template, data, content);
    // The first chunk of a stream (another id): its unread values are the next chunks' too.
    if (text !== undefined) template.prefix = data.slice(0, holeStart(template, data, content));
  }
  if (text !== undefined && start !== undefined) {
    start.template = template;
    start.prefix = template.prefix;
  }
  return text;
}

/** Templates kept per upstream, most recent first: the first ones of a provider's spelling are all it needs. */
const KEPT = 4;

/**
 * The templates learnt from one upstream's streams, shared by every stream read from it (a new stream then
 * parses only its chunks that carry more than text). A template never depends on the stream that taught it:
 * its holes are exactly the values nothing reads or the text, and it applies only while the served model is
 * the template's, which each stream's first parsed chunk tells.
 */
export class TemplateMemory {
  private readonly templates: ContentTemplate[] = [];
  private readonly wholes: WholeTemplate[] = [];

  /** The delta text when `data` is spelled like a kept template of `servedModel`'s; `start`: the stream's own. */
  read(data: string, servedModel: string | undefined, start?: StreamStart): string | undefined {
    for (const template of this.templates) {
      if (template.model !== undefined && template.model !== servedModel) continue;
      const text = readWithTemplate(template, data, start);
      if (text !== undefined) return text;
    }
    return undefined;
  }

  learn(template: ContentTemplate): void {
    this.templates.unshift(template);
    if (this.templates.length > KEPT) this.templates.pop();
  }

  /** The chunk a kept whole template stands for, when `data` is spelled like it. */
  readWhole(data: string): Readonly<Record<string, unknown>> | undefined {
    for (const template of this.wholes) if (matchesWhole(template, data)) return template.chunk;
    return undefined;
  }

  learnWhole(template: WholeTemplate): void {
    this.wholes.unshift(template);
    if (this.wholes.length > KEPT) this.wholes.pop();
  }
}
