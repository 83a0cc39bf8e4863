// Tiny readers for untrusted JSON: upstream bodies are checked field by field, never cast wholesale.
import { isObject } from '../core/json.js';
import type { Usage } from './types.js';

export { isObject, parseJson, type JsonObject } from '../core/json.js';

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** More tokens than any model's context holds, by far: a count past it is a broken upstream, not a request. */
const MAX_TOKENS = 1e9;

const tokenCount = (value: number | undefined): value is number => value !== undefined && Number.isInteger(value) && value >= 0 && value <= MAX_TOKENS;

/**
 * Usage from token counts; undefined when the upstream did not report both sides, or reported a count no
 * request can have (negative, fractional, 1e308): summed into the cost, one such count made it Infinity, which
 * JSON writes as null, and state.json then failed its own schema (status and the next rollout refused it).
 */
export function makeUsage(prompt: number | undefined, completion: number | undefined, total?: number): Usage | undefined {
  if (!tokenCount(prompt) || !tokenCount(completion)) return undefined;
  return { promptTokens: prompt, completionTokens: completion, totalTokens: tokenCount(total) ? total : prompt + completion };
}

/** The text of a message content that is a string or an array of `{type: 'text', text}` parts. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('');
}
