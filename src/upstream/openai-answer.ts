// A fast path for a non-streamed OpenAI chat answer (the proxy's collected 2xx body): most answers of one upstream
// are spelled alike but for their text, their token counts and a few fields nothing reads (id, created,
// system_fingerprint), so once an answer was parsed in full its spelling (json-spelling.ts) is kept, and a later
// answer spelled like it is read from its holes: choices[0].message.content and the usage counts. By the JSON
// grammar it parses to the learnt answer but for those values, so the reply is the learnt one with them put in:
// exactly what the full parse gives. Anything else (another finish reason or model, tool calls, whitespace
// elsewhere, a key spelled twice or with an escape) misses and is parsed in full. Saved: the JSON.parse of the
// answer and the walk of its object (~6 us a request at 1,000 req/s; docs/benchmarks-history.md, session 30).
import type { DialectReply } from './dialect.js';
import { holesOf, holeText, LITERAL, spellingOf, stringAt, type Frame, type Spelling } from './json-spelling.js';
import { isObject, type JsonObject } from './shape.js';
import type { Usage } from './types.js';

/** Top-level fields the reply never reads, whose values differ from answer to answer. */
const UNREAD_STRINGS = new Set(['id', 'obfuscation', 'system_fingerprint']);
const UNREAD_NUMBERS = new Set(['created']);
/** The usage counts the reply reads (a hole's role is its index here + FIRST_COUNT). */
const COUNTS = ['prompt_tokens', 'completion_tokens', 'total_tokens'];

const UNREAD = 0;
const CONTENT = 1;
const FIRST_COUNT = 2;

/** Answers spelled like none kept, after which learning pauses while no answer matched (a provider that never repeats). */
const MAX_FRUITLESS = 8;
/** While paused, one miss in this many is still learnt from (the provider may settle later). */
const RETRY_EVERY = 64;
/** Spellings kept, most recent first: the few an upstream answers in (stop, length) are all it needs. */
const KEPT = 4;

interface AnswerTemplate extends Spelling {
  /** The learnt answer's reply (never changed): every field but content and usage is the same for a match. */
  reply: DialectReply;
  /** Which hole is the content, -1 when the text is not a string hole (then the reply's stands). */
  content: number;
  /** Per hole: the usage count it is (its key), or undefined. */
  counts: (string | undefined)[];
  /** The learnt answer's usage object (never changed), undefined when not an object. */
  usage: JsonObject | undefined;
}

const firstPart = (parts: readonly string[]): string => parts[0] as string;

/** True where `path` is choices[0].message.content. */
function atMessageContent(path: readonly Frame[]): boolean {
  return (
    path.length === 4 &&
    path[3]?.key === 'content' &&
    path[2]?.key === 'message' &&
    path[1]?.array === true &&
    path[1].index === 0 &&
    path[0]?.key === 'choices'
  );
}

/** The role of a value of an answer's text: unread top-level fields, the content, any number under `usage`. */
function pickAnswerHole(path: readonly Frame[], numeric: boolean): number {
  const top = path[path.length - 1] as Frame;
  if (path.length === 1) return !top.array && (numeric ? UNREAD_NUMBERS : UNREAD_STRINGS).has(top.key) ? UNREAD : LITERAL;
  if (!numeric) return atMessageContent(path) ? CONTENT : LITERAL;
  // Every count under usage differs from answer to answer (cached_tokens too): only the three are read.
  if (path[0]?.key !== 'usage') return LITERAL;
  const count = path.length === 2 && !top.array ? COUNTS.indexOf(top.key) : -1;
  return count >= 0 ? FIRST_COUNT + count : UNREAD;
}

/**
 * The spellings learnt from one upstream's answers (one per arm target), shared by all its requests. `usageOf` is
 * the dialect's reading of a usage object (the same function its full parse uses).
 */
export class AnswerTemplates {
  private readonly templates: AnswerTemplate[] = [];
  /** Answers learnt from since an answer last matched. */
  private fruitless = 0;
  private misses = 0;
  /** Each matched answer's hole spans, refilled (a read runs to its end synchronously). */
  private readonly spans: number[] = [];

  constructor(private readonly usageOf: (value: unknown) => Usage | undefined) {}

  /** The reply of `text` when it is spelled like a kept answer; undefined when not sure (then it is parsed). */
  read(text: string): DialectReply | undefined {
    const spans = this.spans;
    for (const template of this.templates) {
      if (holeText(template, text, -1, 0, 0, spans) === undefined) continue;
      this.fruitless = 0;
      return this.replyOf(template, text, spans);
    }
    this.misses++;
    return undefined;
  }

  private replyOf(template: AnswerTemplate, text: string, spans: readonly number[]): DialectReply {
    const { content, counts } = template;
    const reply: DialectReply = { ...template.reply };
    if (content >= 0) reply.content = stringAt(text, spans[2 * content] as number, spans[2 * content + 1] as number);
    if (template.usage !== undefined) {
      const usage: JsonObject = { ...template.usage };
      counts.forEach((key, hole) => {
        if (key !== undefined) usage[key] = Number(text.slice(spans[2 * hole], spans[2 * hole + 1]));
      });
      reply.usage = this.usageOf(usage);
    }
    return reply;
  }

  /**
   * Keeps the spelling of `text`, an answer JSON.parse read as `json` and the full parse as `reply`, when later
   * answers may share it: a plain text answer (no tool calls, no reasoning text: those differ every time).
   */
  learn(text: string, json: unknown, reply: DialectReply): void {
    if (reply.toolCalls || reply.reasoningChars || !isObject(json)) return;
    if (this.fruitless >= MAX_FRUITLESS && this.misses % RETRY_EVERY !== 0) return;
    const template = answerTemplate(text, json, reply);
    if (!template) return;
    this.fruitless++;
    this.templates.unshift(template);
    if (this.templates.length > KEPT) this.templates.pop();
  }
}

/** The spelling of an answer with its holes, checked against what JSON.parse read (`json`); undefined if unsafe. */
function answerTemplate(text: string, json: JsonObject, reply: DialectReply): AnswerTemplate | undefined {
  const holes = holesOf(text, pickAnswerHole);
  if (!holes) return undefined;
  const content = holes.findIndex((hole) => hole[3] === CONTENT);
  const usage = isObject(json.usage) ? json.usage : undefined;
  // The holes must hold what the parse read there: the content as the reply has it, each count as usage has it.
  if (content >= 0 && stringAt(text, holes[content]?.[0] as number, holes[content]?.[1] as number) !== reply.content) return undefined;
  const counts = holes.map(([start, end, , role]) => {
    if (role < FIRST_COUNT) return undefined;
    const key = COUNTS[role - FIRST_COUNT] as string;
    return usage !== undefined && usage[key] === Number(text.slice(start, end)) ? key : null;
  });
  if (counts.includes(null)) return undefined;
  return {
    // Most answers of an upstream match: a mark to turn others away first would only be searched for in vain.
    ...spellingOf(text, holes, firstPart),
    reply: { ...reply },
    content,
    counts: counts as (string | undefined)[],
    usage,
  };
}
