// What each API dialect (OpenAI, Anthropic) provides to the transport: request shape and response parsing.
import type { ApiDialect } from '../plan/plan.js';
import type { RequestAdaptation } from './adapt.js';
import type { SseEvent } from './sse-parser.js';
import type { ChatRequest, Usage } from './types.js';

/** A parsed successful answer, before timing and retry bookkeeping are added. */
export interface DialectReply {
  /** The answer's text only: reasoning and tool calls are counted apart. */
  content: string;
  finishReason?: string;
  usage?: Usage;
  servedModel?: string;
  /** Characters of reasoning output (reasoning_content, Anthropic thinking), when there was some. */
  reasoningChars?: number;
  /** Tool calls the answer made. */
  toolCalls?: number;
  /** Characters of tool call arguments, for usage estimates. */
  toolChars?: number;
  /** The model refused (OpenAI `refusal`, Anthropic stop_reason refusal). */
  refusal?: boolean;
  /** The Responses API's id of this response (what a continuation's previous_response_id names). */
  responseId?: string;
  /** The ids of its output items (what a later request's input may name: an item_reference, an item passed back). */
  itemIds?: string[];
}

/** Either the reply, or why the body could not be read as one (becomes a bad_response). */
export type ParseOutcome = { ok: true; reply: DialectReply } | { ok: false; reason: string };

/** What one server-sent event meant to the stream reader. */
export interface StreamStep {
  /** Content text carried by this event (may be empty). */
  delta?: string;
  /** The event carried output (text, reasoning or a tool call): the first one marks time to first token. */
  output?: boolean;
  /** The stream reported an error, or an event could not be parsed: stop reading. */
  error?: string;
  /** The terminator arrived ([DONE] / message_stop). */
  done?: boolean;
  /** The id of the response this stream carries (the Responses API names it in its first event). */
  responseId?: string;
}

/** Accumulates one streamed response; a new reader is made for every attempt. */
export interface StreamReader {
  event(message: SseEvent): StreamStep;
  /** Called when the body ended: the reply, or a bad_response reason (no terminator, ...). */
  finish(): ParseOutcome;
}

/**
 * Reads whole 2xx answers of one upstream by the spellings it learnt from earlier ones (src/upstream/openai-answer.ts),
 * without JSON.parse; read() is undefined when not sure, and the caller then parses the text and lets it learn.
 */
export interface AnswerReader {
  read(text: string): DialectReply | undefined;
  learn(text: string, json: unknown, reply: DialectReply): void;
}

export interface Dialect {
  readonly api: ApiDialect;
  /** Appended to the base URL for chat requests. */
  readonly chatPath: string;
  /** Query string for GET {base}/models, if the dialect pages the list. */
  readonly modelsQuery: string;
  /** Protocol headers, including authentication when a key is known. */
  headers(apiKey: string | undefined): Record<string, string>;
  body(model: string, request: ChatRequest, adaptation: RequestAdaptation): Record<string, unknown>;
  parse(json: unknown): ParseOutcome;
  streamReader(): StreamReader;
  /**
   * A source of stream readers for one upstream that share what they learn of its spelling (the OpenAI fast
   * path's templates), so each new stream need not learn it again.
   */
  sharedStreamReaders(): () => StreamReader;
  /** An answer reader for one upstream, when the dialect has one (its answers then skip the parse when they can). */
  sharedAnswerReader?(): AnswerReader;
}
