// Synthetic requests: a prompt from the list, sometimes behind a short system message, optionally a user id.
import type { ChatMessage, ChatRequest } from '../upstream/types.js';
import { pick, randomInt, type RandomSource } from '../core/random.js';

export const DEFAULT_SYSTEM_PROMPTS: readonly string[] = [
  'You are a helpful customer support assistant. Answer briefly and politely.',
  'You are a support agent for an online store. Be concise and give concrete next steps.',
  'Answer as a friendly help-desk assistant. If you are unsure, say so.',
];

export interface SyntheticOptions {
  prompts: readonly string[];
  maxTokens: number;
  random: RandomSource;
  /** Give each request one of N user ids (user-1 .. user-N), so the sticky split is exercised. */
  users?: number;
  /** Share of requests with a system message first; real traffic is a mix of both. */
  systemShare?: number;
  systemPrompts?: readonly string[];
}

export interface SyntheticSource {
  next(): ChatRequest;
}

export function createSyntheticSource(options: SyntheticOptions): SyntheticSource {
  const { prompts, maxTokens, random, users } = options;
  if (prompts.length === 0) throw new Error('synthetic traffic needs at least one prompt');
  const systemShare = options.systemShare ?? 0.25;
  const systemPrompts = options.systemPrompts ?? DEFAULT_SYSTEM_PROMPTS;
  return {
    next() {
      const messages: ChatMessage[] = [];
      if (systemShare > 0 && systemPrompts.length > 0 && random() < systemShare) {
        messages.push({ role: 'system', content: pick(random, systemPrompts) });
      }
      messages.push({ role: 'user', content: pick(random, prompts) });
      const request: ChatRequest = { messages, params: {}, stream: false, maxTokens, source: 'synthetic' };
      if (users !== undefined && users > 0) request.stickyKey = `user-${randomInt(random, 1, users)}`;
      return request;
    },
  };
}
