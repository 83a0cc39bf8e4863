// The plan's simulated upstream (`simulate`): fault profiles per model and their changes over time.
import { z } from 'zod';
import { atMost, countUpTo, duration, share, wholeUpTo } from './schema-fields.js';
import { MAX_PORT } from '../core/port.js';

const latencySchema = z.strictObject({ p50: duration, p95: duration });

const faultFields = {
  latency: latencySchema.optional(),
  ttft: duration.optional().meta({ description: 'Time to first token when streaming' }),
  tokens_per_second: z.number().min(0.1, 'must be at least 0.1').max(1_000_000, atMost(1_000_000)).optional(),
  output_tokens: z
    .strictObject({ min: wholeUpTo(1_000_000), max: countUpTo(1_000_000) })
    .refine((range) => range.min <= range.max, { error: 'must not be more than output_tokens.max', path: ['min'] })
    .optional(),
  error_rate: share.optional().meta({ description: 'Share of requests answered 500 with an error body' }),
  rate_limit_rate: share.optional().meta({ description: 'Share answered 429 with retry-after' }),
  overload_rate: share.optional().meta({ description: 'Share answered 529 overloaded_error (Anthropic side; 503 on OpenAI)' }),
  timeout_rate: share.optional().meta({ description: 'Share that never answers' }),
  bad_response_rate: share.optional().meta({ description: 'Share with empty content, invalid JSON or a cut stream' }),
};

export const simChangeSchema = z.strictObject({
  at: duration.meta({ description: 'Time since the simulator started' }),
  ...faultFields,
});

export const simModelSchema = z.strictObject({
  ...faultFields,
  changes: z.array(simChangeSchema).optional(),
});

export const simulateSchema = z.strictObject({
  // The random source keeps 32 bits: -1 would be the same seed as 4294967295, so the range is the one --seed takes.
  seed: z
    .number()
    .int('must be a whole number from 0 to 4294967295')
    .min(0, 'must be a whole number from 0 to 4294967295')
    .max(2 ** 32 - 1, 'must be a whole number from 0 to 4294967295')
    .optional(),
  port: z.number().int().min(0).max(MAX_PORT).optional(),
  models: z.record(z.string(), simModelSchema).default({}),
  default: simModelSchema.optional().meta({ description: 'Profile for models not listed' }),
});
