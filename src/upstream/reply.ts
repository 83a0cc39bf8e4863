// A reply's fields on a successful result, one copy for the traffic path's client and the proxy.
import type { DialectReply } from './dialect.js';
import { normaliseFinish } from './finish.js';
import type { UpstreamResult } from './types.js';

/** Sets the reply's text, served model, finish, tool calls, reasoning and refusal on `result` (usage is the caller's). */
export function copyReply(result: UpstreamResult, reply: DialectReply): void {
  result.content = reply.content;
  if (reply.servedModel !== undefined) result.servedModel = reply.servedModel;
  if (reply.finishReason !== undefined) {
    result.finishReason = reply.finishReason;
    result.finish = normaliseFinish(reply.finishReason);
  }
  if (reply.toolCalls) result.toolCalls = reply.toolCalls;
  if (reply.reasoningChars) result.reasoning = true;
  if (reply.refusal) result.refusal = true;
}
