// What one request will get: a fault or a success, and its timing. Decided up front from the request's own
// random source, with a fixed number of draws, so outcomes depend only on the seed and the request order.
import type { EffectiveProfile } from './profile.js';
import { randomInt, type RandomSource } from '../core/random.js';
import { sampleLognormal } from './lognormal.js';

export type Fault = 'rate_limit' | 'overload' | 'error' | 'timeout' | 'bad_response';

/**
 * How a bad response is bad. `no_choices` is `choices: []` on OpenAI and `content: []` on Anthropic;
 * `cut` ends a stream before its terminator.
 */
export type BadVariant = 'empty' | 'invalid_json' | 'no_choices' | 'cut';

const PLAIN_BAD_VARIANTS: readonly BadVariant[] = ['empty', 'invalid_json', 'no_choices'];
const STREAM_BAD_VARIANTS: readonly BadVariant[] = ['empty', 'cut'];

export interface ResponsePlan {
  fault?: Fault;
  badVariant?: BadVariant;
  /** Total response time for a non-streamed answer (and for a 500). */
  latencyMs: number;
  /** Time to the first content of a stream. */
  ttftMs: number;
  tokensPerSecond: number;
  /** Completion tokens, already capped at max tokens. */
  completionTokens: number;
  /** True when the cap cut the answer short (finish_reason length / stop_reason max_tokens). */
  truncated: boolean;
  /** For 429s: what retry-after-ms says. */
  retryAfterMs: number;
}

export interface PlanInput {
  stream: boolean;
  maxTokens: number | undefined;
}

/**
 * One uniform draw picks the fault against the cumulative rates, in the order a real upstream would
 * reject: rate limit, overload, server error, timeout, bad response. With rates summing to 1 or less each
 * fault gets exactly its configured share; past 1 the later ones are squeezed out.
 */
export function chooseFault(profile: EffectiveProfile, u: number): Fault | undefined {
  const ladder: [Fault, number][] = [
    ['rate_limit', profile.rateLimitRate],
    ['overload', profile.overloadRate],
    ['error', profile.errorRate],
    ['timeout', profile.timeoutRate],
    ['bad_response', profile.badResponseRate],
  ];
  let edge = 0;
  for (const [fault, rate] of ladder) {
    edge += rate;
    if (rate > 0 && u < edge) return fault;
  }
  return undefined;
}

export function planResponse(profile: EffectiveProfile, random: RandomSource, input: PlanInput): ResponsePlan {
  // Every draw happens whatever the outcome, so a change of rates does not shift later requests' draws.
  const faultDraw = random();
  const variantDraw = random();
  const latencyMs = sampleLognormal(random, profile.latency.p50, profile.latency.p95);
  const ttftJitter = 0.8 + 0.4 * random();
  const wanted = randomInt(random, profile.outputTokens.min, profile.outputTokens.max);
  const retryAfterMs = randomInt(random, 100, 500);

  const fault = chooseFault(profile, faultDraw);
  const variants = input.stream ? STREAM_BAD_VARIANTS : PLAIN_BAD_VARIANTS;
  const badVariant = fault === 'bad_response' ? variants[Math.floor(variantDraw * variants.length)] : undefined;
  const cap = input.maxTokens !== undefined && input.maxTokens >= 0 ? input.maxTokens : Infinity;
  const ttftMs = profile.ttft !== undefined ? profile.ttft * ttftJitter : latencyMs * 0.35;

  return {
    ...(fault !== undefined && { fault }),
    ...(badVariant !== undefined && { badVariant }),
    latencyMs,
    ttftMs,
    tokensPerSecond: profile.tokensPerSecond,
    completionTokens: Math.min(wanted, cap),
    truncated: wanted > cap,
    retryAfterMs,
  };
}
