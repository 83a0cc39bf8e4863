// The plan's generated traffic and its stages.
import { z } from 'zod';
import { atMost, countUpTo, duration, share, shownText } from './schema-fields.js';

export const trafficSchema = z.strictObject({
  rate: z.number().positive('must be more than 0 requests per second').max(100_000, atMost(100_000)),
  max_in_flight: countUpTo(100_000).default(200),
  stream: share.default(0),
  max_tokens: countUpTo(1_000_000).default(256),
  synthetic: z
    .strictObject({
      share: share.optional(),
      prompts: z
        .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
        .optional()
        .meta({ description: 'A prompts file (one a line) or an inline list' }),
      users: countUpTo(100_000_000).optional().meta({ description: 'Give synthetic requests one of N user ids (sticky split)' }),
    })
    .optional(),
  sampled: z
    .strictObject({
      share: share.optional(),
      file: z.string().min(1),
      sample_rate: z.number().gt(0, 'must be more than 0').max(1, 'must be at most 1').default(1),
    })
    .optional(),
});

export const stageSchema = z.strictObject({
  name: shownText.optional(),
  duration,
  green_weight: share,
  mirror: share.optional().meta({ description: 'Share of blue-routed proxy requests also sent to green in the background, judged and discarded (0..1)' }),
});
