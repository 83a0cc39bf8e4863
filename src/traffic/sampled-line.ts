// Turns one recorded chat-completion request body (a JSONL line) into a ChatRequest, or says why it cannot.
import type { ChatMessage, ChatRequest } from '../upstream/types.js';
import { isObject, nestsDeeperThan } from '../core/json.js';
import { errorText } from '../core/errors.js';

// Owned by bluegreen (model, stream), or carried in stickyKey / maxTokens instead of being sent on.
const NOT_PARAMS = new Set(['model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'user', 'metadata', 'conversation_id']);

/** Deeper than any real request; past a few thousand levels sending or judging the body would run out of stack. */
const MAX_DEPTH = 1000;

export type ParsedLine = { request: ChatRequest } | { problem: string } | undefined;

/** undefined for a blank line; otherwise the request or a one-phrase problem for the skipped count. */
export function parseSampledLine(line: string, defaultMaxTokens: number, vet?: (request: ChatRequest) => string | undefined): ParsedLine {
  const text = line.trim();
  if (text === '') return undefined;
  if (nestsDeeperThan(text, MAX_DEPTH)) return { problem: `nested deeper than ${MAX_DEPTH} levels` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return { problem: `not JSON (${errorText(error)})` };
  }
  if (!isObject(body)) return { problem: 'not a JSON object' };
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return { problem: 'no "messages" list' };
  if (!messages.every((message) => isObject(message) && typeof message.role === 'string' && message.role !== '')) {
    return { problem: 'a message without a "role"' };
  }

  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!NOT_PARAMS.has(key)) params[key] = value;
  }
  const request: ChatRequest = {
    messages: messages as ChatMessage[],
    params,
    stream: false,
    maxTokens: positiveInt(body.max_tokens) ?? positiveInt(body.max_completion_tokens) ?? defaultMaxTokens,
    source: 'sampled',
  };
  const stickyKey = stickyKeyOf(body);
  if (stickyKey !== undefined) request.stickyKey = stickyKey;
  const problem = vet?.(request);
  return problem === undefined ? { request } : { problem };
}

/** The id that should keep a conversation on one arm: user, else a conversation or user id in metadata. */
export function stickyKeyOf(body: Record<string, unknown>): string | undefined {
  const metadata = isObject(body.metadata) ? body.metadata : {};
  for (const candidate of [body.user, metadata.conversation_id, metadata.user_id, body.conversation_id]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate;
    if (typeof candidate === 'number' && Number.isFinite(candidate)) return String(candidate);
  }
  return undefined;
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
