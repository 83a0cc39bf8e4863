// A reply's fields on a successful result, one copy for the traffic path's client and the proxy.
import { oneLine } from '../core/format.js';
import type { DialectReply } from './dialect.js';
import { normaliseFinish } from './finish.js';
import type { UpstreamResult } from './types.js';

/**
 * The most characters of the upstream's own finish reason and served model a result keeps. Every real one is far
 * shorter (`content_filter`, `claude-sonnet-4-20250514`); a longer one, whatever an upstream sends, is cut to one
 * line: a proxy's results feed, its handover and a rollout's state carry the result, JSON-escaped, once a request.
 */
export const MAX_UPSTREAM_WORD = 100;

function bounded(word: string): string {
  return word.length > MAX_UPSTREAM_WORD ? oneLine(word, MAX_UPSTREAM_WORD) : word;
}

/** Sets the reply's text, served model, finish, tool calls, reasoning and refusal on `result` (usage is the caller's). */
export function copyReply(result: UpstreamResult, reply: DialectReply): void {
  result.content = reply.content;
  if (reply.servedModel !== undefined) result.servedModel = bounded(reply.servedModel);
  if (reply.finishReason !== undefined) {
    result.finishReason = bounded(reply.finishReason);
    result.finish = normaliseFinish(reply.finishReason);
  }
  if (reply.toolCalls) result.toolCalls = reply.toolCalls;
  if (reply.reasoningChars) result.reasoning = true;
  if (reply.refusal) result.refusal = true;
}
