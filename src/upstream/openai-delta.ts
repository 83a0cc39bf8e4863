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
import { holeStart, holesOf, holeText, LITERAL, longestPart, partAt, REFUSE, spellingOf, type Frame, type Spelling } from './json-spelling.js';
import { isObject } from './shape.js';

/** Top-level string fields the stream reader never reads: their values may differ from chunk to chunk. */
const UNREAD = new Set(['id', 'obfuscation', 'system_fingerprint']);
/** Top-level number fields it never reads: `created` differs from one stream to the next. */
const UNREAD_NUMBERS = new Set(['created']);

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

/** Roles of a chunk's holes. */
const UNREAD_HOLE = 0;
const CONTENT_HOLE = 1;

/** True where `path` is choices[0].delta.content of a chunk. */
function atDeltaContent(path: readonly Frame[]): boolean {
  return (
    path.length === 4 && path[3]?.key === 'content' && path[2]?.key === 'delta' && path[1]?.array === true && path[1].index === 0 && path[0]?.key === 'choices'
  );
}

/**
 * Where the values of `text` that may differ from chunk to chunk sit: the unread top-level fields, and
 * choices[0].delta.content when `content` (its text) is given. `text` is valid JSON without a backslash, so
 * every key spells itself plainly and no string value holds a quote. Undefined when the content is not found
 * where and as expected.
 */
function chunkHoles(text: string, content: string | undefined) {
  const holes = holesOf(text, (path, numeric, data, start, end) => {
    const top = path[path.length - 1] as Frame;
    if (path.length === 1 && !top.array && (numeric ? UNREAD_NUMBERS : UNREAD).has(top.key)) return UNREAD_HOLE;
    if (numeric || content === undefined || !atDeltaContent(path)) return LITERAL;
    return data.slice(start + 1, end - 1) === content ? CONTENT_HOLE : REFUSE;
  });
  if (!holes) return undefined;
  const contentHole = holes.findIndex((hole) => hole[3] === CONTENT_HOLE);
  if (content !== undefined && contentHole < 0) return undefined;
  return { holes, content: contentHole };
}

function markOf(parts: readonly string[], content: number | undefined): string {
  return content === undefined ? longestPart(parts) : (parts[content] as string);
}

/** A content template spelled out by hand (Anthropic's text delta): its parts, holes' kinds and content hole. */
export function handTemplate(parts: string[], numeric: boolean[], content: number): ContentTemplate {
  return { parts, numeric, mark: markOf(parts, content), content, model: undefined };
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
  const found = chunkHoles(text, delta.content);
  if (!found) return undefined;
  const { holes, content } = found;
  return { ...spellingOf(text, holes, (parts) => markOf(parts, content)), content, model: typeof chunk.model === 'string' ? chunk.model : undefined };
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
  const found = chunkHoles(text, undefined);
  if (!found) return undefined;
  return { ...spellingOf(text, found.holes, longestPart), chunk };
}

/** Whether `data` is `template`'s literal text with JSON tokens of the holes' kinds in its holes. */
export function matchesWhole(template: WholeTemplate, data: string): boolean {
  return holeText(template, data, -1) !== undefined;
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
  // The shared start is most often the stream's own, just found not to match: not compared again.
  if (shared !== undefined && shared !== own && partAt(data, 0, shared)) text = holeText(template, data, content, content, shared.length);
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
