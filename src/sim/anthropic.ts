// The Anthropic Messages wire format: request parsing, bodies, stream events and error shapes.
import type { IncomingHttpHeaders } from 'node:http';
import type { Completion, Dialect, ErrorKind, ErrorReply, ParsedRequest, StreamScript } from './dialect.js';
import { isErrorReply, sseEvent } from './dialect.js';
import { isObject } from '../core/json.js';
import type { BadVariant } from './outcome.js';
import { contentText, estimatePromptTokens } from './text.js';

const ERRORS: Record<ErrorKind, { status: number; type: string }> = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  not_found: { status: 404, type: 'not_found_error' },
  server: { status: 500, type: 'api_error' },
  rate_limit: { status: 429, type: 'rate_limit_error' },
  overload: { status: 529, type: 'overloaded_error' },
  too_large: { status: 413, type: 'request_too_large' },
};

function error(kind: ErrorKind, message: string): ErrorReply {
  const { status, type } = ERRORS[kind];
  return { status, body: { type: 'error', error: { type, message } } };
}

// The real API refuses a request without anthropic-version before looking at the body.
function checkHeaders(headers: IncomingHttpHeaders): ErrorReply | undefined {
  const version = headers['anthropic-version'];
  if (typeof version !== 'string' || version === '') return error('invalid_request', 'anthropic-version: header is required');
  return undefined;
}

/** The model and prompt size a Messages body names (a completion's, or a token count's, which has no max_tokens). */
function parsePrompt(body: unknown): { model: string; promptTokens: number } | ErrorReply {
  if (!isObject(body)) return error('invalid_request', 'The request body must be a JSON object.');
  const { model, messages, system } = body;
  if (typeof model !== 'string' || model === '') return error('invalid_request', 'model: Field required');
  if (!Array.isArray(messages) || messages.length === 0) return error('invalid_request', 'messages: at least one message is required');
  const texts = messages.map((message: unknown) => (isObject(message) ? contentText(message.content) : ''));
  const systemText = contentText(system);
  if (systemText) texts.push(systemText);
  return { model, promptTokens: estimatePromptTokens(texts, texts.length) };
}

function parseRequest(body: unknown): ParsedRequest | ErrorReply {
  const prompt = parsePrompt(body);
  if (isErrorReply(prompt)) return prompt;
  const maxTokens = isObject(body) ? body.max_tokens : undefined;
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    return error('invalid_request', 'max_tokens: Field required (a positive integer)');
  }
  return { ...prompt, stream: isObject(body) && body.stream === true, includeUsage: true, maxTokens };
}

/** POST /messages/count_tokens: the prompt counted as its answer's usage would count it. */
export function countMessageTokens(body: unknown): ErrorReply {
  const prompt = parsePrompt(body);
  if (isErrorReply(prompt)) return prompt;
  return { status: 200, body: { input_tokens: prompt.promptTokens } };
}

const stopReason = (completion: Completion) => (completion.truncated ? 'max_tokens' : 'end_turn');

function message(completion: Completion, content: unknown[], stop: string | null, outputTokens: number) {
  return {
    id: completion.id,
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content,
    stop_reason: stop,
    stop_sequence: null,
    usage: { input_tokens: completion.promptTokens, output_tokens: outputTokens },
  };
}

function body(completion: Completion, variant?: BadVariant): string {
  // `no_choices` has no Anthropic twin; an empty content list is the closest broken answer.
  const content = variant === 'no_choices' ? [] : [{ type: 'text', text: completion.tokens.join('') }];
  const text = JSON.stringify(message(completion, content, stopReason(completion), completion.tokens.length));
  return variant === 'invalid_json' ? text.slice(0, Math.floor(text.length / 2)) : text;
}

function stream(completion: Completion): StreamScript {
  const opening =
    sseEvent('message_start', { type: 'message_start', message: message(completion, [], null, 1) }) +
    sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
    sseEvent('ping', { type: 'ping' });
  const closing =
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }) +
    sseEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason(completion), stop_sequence: null },
      usage: { output_tokens: completion.tokens.length },
    }) +
    sseEvent('message_stop', { type: 'message_stop' });
  return {
    opening,
    delta: (text) => sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
    closing,
  };
}

export const anthropicDialect: Dialect = {
  name: 'anthropic',
  idPrefix: 'msg_',
  checkHeaders,
  parseRequest,
  error,
  requestIdHeader: 'request-id',
  body,
  stream,
};
