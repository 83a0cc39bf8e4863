// Which profile a model gets, and what it looks like at a given moment once its timed changes are applied.
import { deepFreeze } from '../core/frozen.js';
import type { SimChange, SimModelProfile, SimulateConfig } from '../plan/schema.js';

/** A profile with every field filled in; durations in milliseconds. */
export interface EffectiveProfile {
  latency: { p50: number; p95: number };
  /** Undefined: derived from the sampled latency (35% of it). */
  ttft: number | undefined;
  tokensPerSecond: number;
  outputTokens: { min: number; max: number };
  errorRate: number;
  rateLimitRate: number;
  overloadRate: number;
  timeoutRate: number;
  badResponseRate: number;
}

/** Defaults for a fast, healthy demo upstream. */
export const DEFAULT_PROFILE = deepFreeze<EffectiveProfile>({
  latency: { p50: 250, p95: 800 },
  ttft: undefined,
  tokensPerSecond: 80,
  outputTokens: { min: 20, max: 120 },
  errorRate: 0,
  rateLimitRate: 0,
  overloadRate: 0,
  timeoutRate: 0,
  badResponseRate: 0,
});

/**
 * The configured profile for a model: its own entry, else `default`, else undefined (unknown model).
 * A listed model does not inherit from `default`: `default` only describes unlisted models.
 */
export function findProfile(config: SimulateConfig, model: string): SimModelProfile | undefined {
  if (Object.hasOwn(config.models, model)) return config.models[model];
  return config.default;
}

type Fields = Omit<SimChange, 'at'>;

function applyFields(into: EffectiveProfile, fields: Fields): EffectiveProfile {
  const out = { ...into };
  if (fields.latency !== undefined) out.latency = { ...fields.latency };
  if (fields.ttft !== undefined) out.ttft = fields.ttft;
  if (fields.tokens_per_second !== undefined) out.tokensPerSecond = fields.tokens_per_second;
  if (fields.output_tokens !== undefined) {
    const { min, max } = fields.output_tokens;
    out.outputTokens = { min: Math.min(min, max), max: Math.max(min, max) };
  }
  if (fields.error_rate !== undefined) out.errorRate = fields.error_rate;
  if (fields.rate_limit_rate !== undefined) out.rateLimitRate = fields.rate_limit_rate;
  if (fields.overload_rate !== undefined) out.overloadRate = fields.overload_rate;
  if (fields.timeout_rate !== undefined) out.timeoutRate = fields.timeout_rate;
  if (fields.bad_response_rate !== undefined) out.badResponseRate = fields.bad_response_rate;
  return out;
}

/** The profile in force `elapsedMs` after the simulator started: base, then each due change in `at` order. */
export function profileAt(base: SimModelProfile, elapsedMs: number): EffectiveProfile {
  const { changes = [], ...fields } = base;
  // The caller owns what it gets: its nested objects are copies, never the frozen defaults'.
  const defaults = { ...DEFAULT_PROFILE, latency: { ...DEFAULT_PROFILE.latency }, outputTokens: { ...DEFAULT_PROFILE.outputTokens } };
  let profile = applyFields(defaults, fields);
  // A stable sort keeps same-time changes in the order they were written.
  const due = changes.filter((change) => change.at <= elapsedMs).sort((a, b) => a.at - b.at);
  for (const { at: _at, ...change } of due) profile = applyFields(profile, change);
  return profile;
}
