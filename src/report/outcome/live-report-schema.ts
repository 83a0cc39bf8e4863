// The JSON report's `live` section's shape (live-report.ts fills it): apart from the function, so that a rollout
// building its report does not construct the report's zod schemas at each start (report-version.ts).
import { z } from 'zod';

const count = z.number().int().nonnegative();
const ratio = z.number().min(0).max(1);
// `neutral`: the proxies' neutral results (docs/proxy.md), in neither count; only on `live`, absent when none.
const armCount = z.strictObject({ requests: count, failures: count, neutral: count.optional() });
const arms = z.strictObject({ blue: armCount, green: armCount });

export const liveReportSchema = z
  .strictObject({
    leaseMs: count.meta({ description: 'The lease the rollout renewed (proxy.controller.lease)' }),
    proxies: z.array(
      z.strictObject({
        url: z.string().meta({ description: "The proxy's admin URL" }),
        reachable: z.boolean().meta({ description: 'It answered the rollout’s last call' }),
        greenWeight: ratio,
        mirror: ratio,
        promotedArm: z.enum(['blue', 'green']).nullable(),
        // A proxy that missed the ending may still hold its lease when the report is written: no tense is implied.
        leaseExpiresAt: count.nullable().meta({
          description: "Epoch ms (the proxy's clock) when the last lease the proxy answered with ends, past or still to come; null with no lease",
        }),
        error: z
          .string()
          .nullable()
          .meta({ description: "Why the last call failed: while it does not answer, or why it refused the rollout's last route (it answered)" }),
        missed: count.meta({ description: 'Results that left the proxy’s ring before the rollout read them (never judged)' }),
      }),
    ),
    stages: z.array(
      z.strictObject({
        index: count,
        live: arms.meta({ description: 'Requests the proxies served (a fallback is a green failure plus a blue request; a mirror copy a green request)' }),
        fallbacks: count,
        mirrors: count,
        generated: arms.meta({ description: "The plan's synthetic/sampled traffic the rollout sent itself: judged minus live" }),
      }),
    ),
  })
  .meta({ description: 'A live rollout (a plan with proxy.admin): the proxies and their figures; null otherwise' });

export type LiveReport = z.infer<typeof liveReportSchema>;
