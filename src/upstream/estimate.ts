// Token counts for answers whose upstream reported none, so cost and throughput still have a figure.
import type { DialectReply } from './dialect.js';
import { textOf } from './shape.js';
import type { ChatRequest, Usage } from './types.js';

/** About four characters a token for English text with common tokenizers: an estimate, marked as such. */
export const CHARS_PER_TOKEN = 4;

// Each message costs a few tokens of framing (role, separators) on top of its text.
const TOKENS_PER_MESSAGE = 4;

function tokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

export function estimateUsage(request: ChatRequest, reply: DialectReply): Usage {
  let promptChars = 0;
  for (const message of request.messages) promptChars += textOf(message.content).length;
  const promptTokens = tokens(promptChars) + TOKENS_PER_MESSAGE * request.messages.length;
  const completionTokens = tokens(reply.content.length + (reply.reasoningChars ?? 0) + (reply.toolChars ?? 0));
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens, estimated: true };
}
