// A fast path for the commonest OpenAI stream chunk, one that carries only a text delta. Most chunks of a
// stream are spelled exactly alike but for their text (and a few fields nothing reads: id, obfuscation,
// system_fingerprint), so once a chunk was parsed in full and found to be plain text, its spelling becomes a
// template: the literal text around those string values. A later chunk that is the template with other JSON
// string tokens in those places parses, by the JSON grammar, to the same object but for those strings, so its
// delta is read without JSON.parse. Anything else (another spelling, whitespace, a finish reason, usage, an
// error, any escape in the template's own text) misses and is parsed in full: the fast path never decides
// differently from the full parse, it only skips it.
import { isObject } from './shape.js';

/** One JSON string token, exactly as the JSON grammar spells it (sticky: matched at a given offset). */
const STRING_TOKEN = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
/** Top-level string fields the stream reader never reads: their values may differ from chunk to chunk. */
const UNREAD = new Set(['id', 'obfuscation', 'system_fingerprint']);

export interface ContentTemplate {
  /** Literal text between the holes (one more than the holes). */
  parts: string[];
  /** Which hole is choices[0].delta.content. */
  content: number;
  /** The chunk's `model` when it is a string: the template applies only while that is the served model. */
  model: string | undefined;
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

/**
 * The template of `text`, a chunk JSON.parse read as `chunk`, when the stream reader would take nothing from it
 * but choices[0].delta.content (the caller checked that: no error, usage, finish reason, only `content` in the
 * delta). Undefined when the text cannot be a safe template: any backslash (every key then spells itself plainly
 * and no string value holds a quote), or `choices`, `delta` or `content` spelled other than once.
 */
export function learnTemplate(text: string, chunk: Record<string, unknown>): ContentTemplate | undefined {
  if (text.includes('\\')) return undefined;
  if (count(text, '"choices":') !== 1 || count(text, '"delta":') !== 1 || count(text, '"content":') !== 1) return undefined;
  const choices = chunk.choices;
  const choice: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const delta = isObject(choice) ? choice.delta : undefined;
  if (!isObject(delta) || typeof delta.content !== 'string') return undefined;
  const holes: [number, number][] = [];
  let content = -1;
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
        holes.push([i, end + 1]);
      } else if (
        stack.length === 4 &&
        top.key === 'content' &&
        stack[2]?.key === 'delta' &&
        stack[1]?.array === true &&
        stack[1].index === 0 &&
        stack[0]?.key === 'choices'
      ) {
        if (text.slice(i + 1, end) !== delta.content) return undefined;
        content = holes.length;
        holes.push([i, end + 1]);
      }
      i = end;
    } else if (c === 0x7b) stack.push({ array: false, key: '', wantKey: true, index: 0 });
    else if (c === 0x5b) stack.push({ array: true, key: '', wantKey: false, index: 0 });
    else if (c === 0x7d || c === 0x5d) stack.pop();
    else if (c === 0x3a && top) top.wantKey = false;
    else if (c === 0x2c && top) {
      if (top.array) top.index++;
      else top.wantKey = true;
    }
  }
  if (content < 0) return undefined;
  const parts: string[] = [];
  let from = 0;
  for (const [start, end] of holes) {
    parts.push(text.slice(from, start));
    from = end;
  }
  parts.push(text.slice(from));
  return { parts, content, model: typeof chunk.model === 'string' ? chunk.model : undefined };
}

/** The delta text of `data` when it is `template` with JSON string tokens in its holes, else undefined. */
export function readWithTemplate(template: ContentTemplate, data: string): string | undefined {
  const { parts } = template;
  let at = 0;
  let token = '';
  const last = parts.length - 1;
  for (let k = 0; ; k++) {
    const part = parts[k] as string;
    // slice + === rather than startsWith(part, at): several times faster in V8 for parts this long.
    if (data.slice(at, at + part.length) !== part) return undefined;
    at += part.length;
    if (k === last) break;
    STRING_TOKEN.lastIndex = at;
    if (!STRING_TOKEN.test(data)) return undefined;
    if (k === template.content) token = data.slice(at, STRING_TOKEN.lastIndex);
    at = STRING_TOKEN.lastIndex;
  }
  if (at !== data.length) return undefined;
  // The token is valid JSON: without escapes it is its own text.
  return token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1);
}
