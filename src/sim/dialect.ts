// What the OpenAI and Anthropic wire formats have to provide; the server and responder are format-blind.
import type { IncomingHttpHeaders } from 'node:http';
import type { BadVariant } from './outcome.js';

export type DialectName = 'openai' | 'anthropic';

export type ErrorKind = 'invalid_request' | 'not_found' | 'server' | 'rate_limit' | 'overload' | 'too_large';

/** A finished error answer: status and body in the dialect's shape. */
export interface ErrorReply {
  status: number;
  body: unknown;
}

/** The parts of a request the simulator cares about. */
export interface ParsedRequest {
  model: string;
  stream: boolean;
  /** OpenAI: stream_options.include_usage. */
  includeUsage: boolean;
  maxTokens: number | undefined;
  promptTokens: number;
  /** OpenAI chat's `n`: how many choices to answer (1 when absent). */
  choices?: number;
}

/** One answer, already generated; streams send `tokens` in batches. */
export interface Completion {
  id: string;
  model: string;
  /** Unix seconds. */
  created: number;
  tokens: string[];
  promptTokens: number;
  truncated: boolean;
  includeUsage: boolean;
  /** OpenAI chat's `n` (1 when absent): that many choices, each with `tokens` (one draw), their usage summed. */
  choices?: number;
}

/** The frames of a stream; each string is one or more complete SSE events. */
export interface StreamScript {
  opening: string;
  delta(text: string): string;
  /** After the last token: finish and usage frames, then the terminator. */
  closing: string;
}

export interface Dialect {
  readonly name: DialectName;
  /** Prefix of the ids it gives its answers (chatcmpl-, msg_, resp_). */
  readonly idPrefix: string;
  /** Header checks the real API makes before reading the body (anthropic-version). */
  checkHeaders(headers: IncomingHttpHeaders): ErrorReply | undefined;
  parseRequest(body: unknown): ParsedRequest | ErrorReply;
  error(kind: ErrorKind, message: string, param?: string): ErrorReply;
  /** Header naming the request id, as the real API calls it. */
  readonly requestIdHeader: string;
  /** A non-streamed body, spoilt as the variant says when given. */
  body(completion: Completion, variant?: BadVariant): string;
  stream(completion: Completion): StreamScript;
}

export function isErrorReply<T extends object>(value: T | ErrorReply): value is ErrorReply {
  return 'status' in value;
}

export function sseData(data: unknown): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
