// Per-arm request adaptation: makes an OpenAI-shaped request body valid for the arm's model. Pure, so the
// generated traffic path and the live proxy make the same request out of the same input.
import type { ApiDialect, ArmRequestSettings } from '../plan/plan.js';
import { deepFreeze, type DeepReadonly } from '../core/frozen.js';
import { applyResponsesParams, responsesParams, type ResponsesParams } from './param-spelling.js';

export type TokenParam = 'max_tokens' | 'max_completion_tokens';

/** What adaptOpenAiBody applies to one arm's requests, resolved once from the model name and the plan. */
export interface RequestAdaptation {
  /** The field that carries the output token limit. */
  tokenParam: TokenParam;
  /** Parameters removed from every request. */
  drop: ReadonlySet<string>;
  /** Fields set on every request (the plan's params, reasoning_effort). */
  set: Readonly<Record<string, unknown>>;
  /** The same fields as the Responses API spells them (param-spelling.ts). */
  responses: ResponsesParams;
  /** The model name looks like an OpenAI reasoning model (o1, o3, o4, gpt-5). */
  reasoning: boolean;
}

/**
 * Sampling parameters OpenAI's reasoning models answer 400 to ("Unsupported parameter" or "Unsupported value:
 * 'temperature' does not support 0.3 with this model. Only the default (1) value is supported.").
 */
export const REASONING_UNSUPPORTED: readonly string[] = [
  'temperature',
  'top_p',
  'presence_penalty',
  'frequency_penalty',
  'logprobs',
  'top_logprobs',
  'logit_bias',
];

const DEFAULT_SETTINGS = deepFreeze<ArmRequestSettings>({ tokenParam: 'auto', params: {} });

/** The model's own name: relays prefix a vendor (openai/o3-mini), some add a date or a tag. */
function baseModelName(model: string): string {
  const slash = model.lastIndexOf('/');
  return (slash >= 0 ? model.slice(slash + 1) : model).toLowerCase();
}

/** o1, o3, o4 (and their -mini, -pro variants) and the gpt-5 family reason before answering. */
export function isReasoningModel(model: string): boolean {
  const name = baseModelName(model);
  if (/^o\d+(-|$)/.test(name)) return true;
  // gpt-5-chat(-latest) is the non-reasoning chat model: it keeps temperature and friends.
  return /^gpt-5/.test(name) && !/-chat(-|$)/.test(name);
}

/** Models that want max_completion_tokens: the reasoning ones, and gpt-5-chat. */
function wantsCompletionTokens(model: string): boolean {
  return isReasoningModel(model) || /^gpt-5/.test(baseModelName(model));
}

export function resolveAdaptation(model: string, settings: DeepReadonly<ArmRequestSettings> = DEFAULT_SETTINGS): RequestAdaptation {
  const reasoning = isReasoningModel(model);
  const tokenParam: TokenParam = settings.tokenParam !== 'auto' ? settings.tokenParam : wantsCompletionTokens(model) ? 'max_completion_tokens' : 'max_tokens';
  const drop = new Set(settings.drop ?? (reasoning ? REASONING_UNSUPPORTED : []));
  const set: Record<string, unknown> = { ...settings.params };
  if (settings.reasoningEffort !== undefined) set.reasoning_effort = settings.reasoningEffort;
  // A parameter the plan sets explicitly is sent even when the default would have dropped it.
  for (const key of Object.keys(set)) drop.delete(key);
  return { tokenParam, drop, set, responses: responsesParams(set), reasoning };
}

/**
 * The body with the token limit under the arm's field, dropped parameters removed and the arm's fields set.
 * The input is not changed. A body with neither token field gets none (the model's own limit applies).
 */
export function adaptOpenAiBody(body: Readonly<Record<string, unknown>>, adaptation: RequestAdaptation): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'max_tokens' || key === 'max_completion_tokens' || adaptation.drop.has(key)) continue;
    out[key] = value;
  }
  const limit = body.max_completion_tokens ?? body.max_tokens;
  if (limit !== undefined && limit !== null) out[adaptation.tokenParam] = limit;
  return Object.assign(out, adaptation.set);
}

/** Drops and sets for a dialect with a fixed token field (Anthropic's max_tokens is required). */
export function applyDropAndSet(body: Readonly<Record<string, unknown>>, adaptation: RequestAdaptation): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (!adaptation.drop.has(key)) out[key] = value;
  return Object.assign(out, adaptation.set);
}

/**
 * A Responses API body for the arm: dropped parameters removed (reasoning models refuse temperature and top_p
 * there too) and the arm's fields set as that API spells them (`reasoning_effort` as `reasoning.effort`,
 * `verbosity` as `text.verbosity`, merged into the application's objects; those it has no spelling for left out).
 * The token limit stays `max_output_tokens`, which every model takes.
 */
export function adaptResponsesBody(body: Readonly<Record<string, unknown>>, adaptation: RequestAdaptation): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (!adaptation.drop.has(key)) out[key] = value;
  return applyResponsesParams(out, adaptation.responses);
}

/** One line on what the arm's requests get, for `validate`; undefined when they go out as they come. */
export function describeAdaptation(adaptation: RequestAdaptation, api: ApiDialect): string | undefined {
  const parts: string[] = [];
  if (api !== 'anthropic' && adaptation.tokenParam === 'max_completion_tokens') parts.push('max_completion_tokens instead of max_tokens');
  for (const [key, value] of Object.entries(adaptation.set)) parts.push(`${key}: ${JSON.stringify(value)}`);
  if (adaptation.drop.size > 0) parts.push(`never sent: ${[...adaptation.drop].join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}
