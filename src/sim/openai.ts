// The OpenAI Chat Completions wire format: request parsing, bodies, stream chunks and error shapes.
import type { Completion, Dialect, ErrorKind, ErrorReply, ParsedRequest, StreamScript } from './dialect.js';
import { sseData } from './dialect.js';
import { isObject } from '../core/json.js';
import type { BadVariant } from './outcome.js';
import { contentText, estimatePromptTokens } from './text.js';

/** The most choices one request may ask for (the real API's bound on `n`). */
const MAX_CHOICES = 128;

const ERRORS: Record<ErrorKind, { status: number; type: string; code: string | null }> = {
  invalid_request: { status: 400, type: 'invalid_request_error', code: null },
  not_found: { status: 404, type: 'invalid_request_error', code: 'model_not_found' },
  server: { status: 500, type: 'server_error', code: null },
  rate_limit: { status: 429, type: 'requests', code: 'rate_limit_exceeded' },
  overload: { status: 503, type: 'server_error', code: null },
  too_large: { status: 413, type: 'invalid_request_error', code: null },
};

export function openaiErrorBody(message: string, type: string, code: string | null, param: string | null = null): unknown {
  return { error: { message, type, param, code } };
}

function error(kind: ErrorKind, message: string, param?: string): ErrorReply {
  const { status, type, code } = ERRORS[kind];
  return { status, body: openaiErrorBody(message, type, code, param ?? null) };
}

function parseRequest(body: unknown): ParsedRequest | ErrorReply {
  if (!isObject(body)) return error('invalid_request', 'The request body must be a JSON object.');
  const { model, messages } = body;
  if (typeof model !== 'string' || model === '') return error('invalid_request', 'You must provide a model parameter.', 'model');
  if (!Array.isArray(messages) || messages.length === 0) {
    return error('invalid_request', "Invalid 'messages': expected a non-empty array.", 'messages');
  }
  const texts = messages.map((message: unknown) => (isObject(message) ? contentText(message.content) : ''));
  const limit = body.max_completion_tokens ?? body.max_tokens;
  const options = body.stream_options;
  // As the real API checks it: a whole number from 1 to 128 (null is the default, 1).
  const n = body.n ?? 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_CHOICES) {
    return error('invalid_request', `Invalid 'n': expected an integer from 1 to ${MAX_CHOICES}, but got ${JSON.stringify(n)} instead.`, 'n');
  }
  return {
    model,
    stream: body.stream === true,
    includeUsage: isObject(options) && options.include_usage === true,
    maxTokens: typeof limit === 'number' ? Math.floor(limit) : undefined,
    promptTokens: estimatePromptTokens(texts, messages.length),
    ...(n > 1 && { choices: n }),
  };
}

function usage(completion: Completion) {
  // Every choice's tokens are billed, as the real API sums them.
  const completionTokens = completion.tokens.length * (completion.choices ?? 1);
  return {
    prompt_tokens: completion.promptTokens,
    completion_tokens: completionTokens,
    total_tokens: completion.promptTokens + completionTokens,
  };
}

const finishReason = (completion: Completion) => (completion.truncated ? 'length' : 'stop');

/** The choices' indexes: 0 to n - 1. */
const indexes = (completion: Completion): number[] => Array.from({ length: completion.choices ?? 1 }, (_, index) => index);

function body(completion: Completion, variant?: BadVariant): string {
  const message = { role: 'assistant', content: completion.tokens.join(''), refusal: null, annotations: [] };
  const full = {
    id: completion.id,
    object: 'chat.completion',
    created: completion.created,
    model: completion.model,
    choices: variant === 'no_choices' ? [] : indexes(completion).map((index) => ({ index, message, logprobs: null, finish_reason: finishReason(completion) })),
    usage: usage(completion),
    service_tier: 'default',
    system_fingerprint: null,
  };
  const text = JSON.stringify(full);
  // A body cut mid-way: 200 with JSON that does not parse.
  return variant === 'invalid_json' ? text.slice(0, Math.floor(text.length / 2)) : text;
}

function stream(completion: Completion): StreamScript {
  const base = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model, system_fingerprint: null };
  // With include_usage every chunk carries usage: null and one extra chunk carries the totals.
  const extra = completion.includeUsage ? { usage: null } : {};
  // One chunk per choice, in turn, as the real API streams several.
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    indexes(completion)
      .map((index) => sseData({ ...base, choices: [{ index, delta, logprobs: null, finish_reason: finish }], ...extra }))
      .join('');
  let closing = chunk({}, finishReason(completion));
  if (completion.includeUsage) closing += sseData({ ...base, choices: [], usage: usage(completion) });
  closing += sseData('[DONE]');
  return {
    opening: chunk({ role: 'assistant', content: '', refusal: null }, null),
    delta: (text) => chunk({ content: text }, null),
    closing,
  };
}

export const openaiDialect: Dialect = {
  name: 'openai',
  idPrefix: 'chatcmpl-',
  checkHeaders: () => undefined,
  parseRequest,
  error,
  requestIdHeader: 'x-request-id',
  body,
  stream,
};
