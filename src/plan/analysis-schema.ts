// How the plan judges green: thresholds, comparisons with blue, quality checks, inconclusive stages, health checks.
import { z } from 'zod';
import { atMost, countUpTo, duration, period, share, timeLimit, wholeUpTo } from './schema-fields.js';
import { MAX_UPSTREAM_WORD } from '../upstream/reply.js';

export const qualitySchema = z.strictObject({
  tool_calls: z.enum(['pass', 'check']).optional().meta({
    description: 'A reply that calls tools: pass (default: its text is not checked) or check (its text must pass the checks too)',
  }),
  refusals: z.enum(['fail', 'pass']).optional().meta({ description: 'A refusal counts as a quality failure (fail, the default) or not' }),
  min_content_length: wholeUpTo(1_000_000).optional(),
  json: z.boolean().optional(),
  contains: z.union([z.string(), z.array(z.string())]).optional(),
  regex: z
    .string()
    .refine((text) => {
      try {
        new RegExp(text);
        return true;
      } catch {
        return false;
      }
    }, 'is not a valid regular expression')
    .optional(),
  // Results keep an upstream's finish reason to MAX_UPSTREAM_WORD characters (cut to one line past it): a longer
  // entry could never match one, so it is refused rather than quietly failing answers.
  finish_reasons: z
    .array(
      z
        .string()
        .max(
          MAX_UPSTREAM_WORD,
          `must be at most ${MAX_UPSTREAM_WORD} characters: results keep an upstream's finish reason to ${MAX_UPSTREAM_WORD}, so a longer entry never matches`,
        ),
    )
    .min(1)
    .optional()
    .meta({
      description: 'Accepted finish reasons, as the upstream says them (end_turn) or normalised (stop, length, tool_calls, content_filter, refusal)',
    }),
});

const thresholdsSchema = z.strictObject({
  error_rate: share.optional(),
  consecutive_errors: countUpTo(1_000_000).optional(),
  latency_p95: duration.optional(),
  latency_p99: duration.optional(),
  ttft_p95: duration.optional(),
  quality_fail_rate: share.optional(),
});

const ON_INCONCLUSIVE = ['pass', 'extend', 'pause'] as const;
const ON_UNJUDGED = ['rollback', 'promote'] as const;

export const analysisSchema = z.strictObject({
  interval: period(100, '100ms').default(2000),
  confidence: z
    .number()
    .min(0.5, 'must be at least 0.5')
    .lt(1, 'must be less than 1')
    .default(0.99)
    .meta({ description: 'A green within its limits is rolled back in at most 1 - confidence of rollouts' }),
  min_requests: wholeUpTo(10_000_000).default(20).meta({ description: 'A floor per arm and stage before a rate is judged' }),
  thresholds: thresholdsSchema.default({}),
  compare_to_blue: z
    .strictObject({
      max_error_rate_increase: share.optional(),
      max_latency_p95_ratio: z
        .number()
        .positive('must be more than 0')
        .max(1000, atMost(1000))
        .optional()
        .meta({ description: 'Green p95 / blue p95 at most this' }),
      max_quality_fail_rate_increase: share.optional().meta({ description: 'Green quality failure rate at most this above blue' }),
    })
    .optional(),
  quality: qualitySchema.optional(),
  on_inconclusive: z
    .enum(ON_INCONCLUSIVE)
    .default('pass')
    .meta({ description: 'At a stage end with a rule undecided: pass on, extend the stage, or pause for an operator' }),
  max_extensions: z
    .number()
    .int()
    .min(1, 'must be at least 1')
    .max(10, 'must be at most 10')
    .default(2)
    .meta({ description: 'on_inconclusive: extend adds the stage duration again at most this many times, then passes' }),
  on_unjudged: z.enum(ON_UNJUDGED).default('rollback').meta({
    description:
      'When every stage passed with nothing judged (green answered fewer than min_requests, or none successfully): roll back (exit 10), or promote anyway',
  }),
});

export const healthCheckSchema = z.strictObject({
  interval: period(100, '100ms').default(30_000),
  failures_to_rollback: countUpTo(10_000).default(3),
  timeout: timeLimit.default(5000),
  probe: z.enum(['models', 'chat']).optional().meta({
    description: "models: GET /models answers; chat: a tiny chat request to green's model succeeds (default when models_endpoint is skip)",
  }),
});
