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

/** Usage from token counts; undefined when the upstream did not report both sides. */
export function makeUsage(prompt: number | undefined, completion: number | undefined, total?: number): Usage | undefined {
  if (prompt === undefined || completion === undefined) return undefined;
  return { promptTokens: prompt, completionTokens: completion, totalTokens: total ?? prompt + completion };
}

/** The text of a message content that is a string or an array of `{type: 'text', text}` parts. */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('');
}
