// The JSON report's shape (`--report-json`): a zod schema, so the documented contract is also the test.
// Types are inferred from it. docs/reports.md describes every field; keep the two in step.
import { z } from 'zod';
import type { Phase } from '../../engine/types.js';
import type { StageVerdict } from '../../metrics/types.js';
import type { RuleName, Unit } from '../../analysis/types.js';
import { liveReportSchema } from './live-report-schema.js';
import { REPORT_VERSION } from './report-version.js';

export { REPORT_VERSION };

// Listed here (not imported) because zod needs values; the assertions below fail to compile if the
// engine's unions and these lists drift apart in either direction.
const PHASES = ['starting', 'progressing', 'paused', 'promoted', 'rolled_back', 'aborted', 'interrupted', 'failed'] as const;
const STAGE_VERDICTS = ['pending', 'running', 'passed', 'failed', 'aborted', 'skipped'] as const;
const RULES = [
  'error_rate',
  'consecutive_errors',
  'latency_p95',
  'latency_p99',
  'ttft_p95',
  'quality_fail_rate',
  'compare_to_blue.max_error_rate_increase',
  'compare_to_blue.max_latency_p95_ratio',
  'compare_to_blue.max_quality_fail_rate_increase',
  'guard.green_fails_more_than_blue',
  'health_check',
  'hook',
  'proxy_unreachable',
  'nothing_judged',
  'still_running',
] as const;
const UNITS = ['ratio', 'ms', 'count', 'factor'] as const;
/**
 * ok / breach / undecided / waiting as the analysis judged (undecided: the lower bound at or under the limit, the upper over it);
 * not_run: the stage never started, so nothing was judged.
 */
const CHECK_STATUSES = ['ok', 'breach', 'undecided', 'waiting', 'not_run'] as const;
/** engine: the checks that decided the stage, as the rollout judged them; recomputed: re-judged on its final figures; not_run. */
const CHECK_SOURCES = ['engine', 'recomputed', 'not_run'] as const;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const assertSame = <T extends true>(): T | undefined => undefined;
assertSame<Same<(typeof PHASES)[number], Phase>>();
assertSame<Same<(typeof STAGE_VERDICTS)[number], StageVerdict>>();
assertSame<Same<(typeof RULES)[number], RuleName>>();
assertSame<Same<(typeof UNITS)[number], Unit>>();

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();
const ratio = z.number().min(0).max(1);
const iso = z.iso.datetime();

const percentilesSchema = z
  .strictObject({
    p50: ms.nullable(),
    p95: ms.nullable(),
    p99: ms.nullable(),
    max: ms.nullable(),
    mean: ms.nullable(),
    count: count.meta({ description: 'Samples the percentiles are over; 0 leaves every figure null' }),
  })
  .meta({ description: 'Milliseconds' });

const armReportSchema = z.strictObject({
  requests: count.meta({ description: 'Completed requests: successes + failures' }),
  successes: count,
  failures: count,
  failuresByClass: z
    .record(z.string(), count)
    .meta({ description: 'timeout, connection, rate_limited, server_error, client_error, auth, quota, bad_response' }),
  retries: count.meta({ description: 'Extra attempts beyond the first; not failures' }),
  dropped: count.meta({ description: 'Requests not sent because max_in_flight was reached' }),
  qualityFailures: count,
  neutral: count.optional().meta({
    description: 'Live traffic: answers in no judged figure (a plain client error, a request pinned outside the split: docs/proxy.md); absent when none',
  }),
  errorRate: ratio.nullable().meta({ description: 'failures / requests; null with no requests' }),
  latency: percentilesSchema,
  ttft: percentilesSchema.meta({ description: 'Time to first token, streamed successes only' }),
  tokens: z.strictObject({ prompt: count, completion: count }),
  costUsd: z.number().nonnegative(),
});

const latencyBoundsSchema = z.strictObject({ estimate: ms, lower: ms, upper: ms });

const evidenceSchema = z
  .strictObject({
    estimate: z.number(),
    lower: z.number(),
    upper: z.number(),
    limit: z.number().meta({ description: 'The rate allowed: the threshold, 0.05 for a p95, 0.01 for a p99, or the increase over blue' }),
    confidence: z.number().meta({
      description:
        "How sure each of this check's bounds is: 1 - its share of the false-rollback budget (each bound is one-sided, so lower..upper is a (2 confidence - 1) interval)",
    }),
    overMs: ms.nullable().meta({ description: 'Latency rules: the limit whose share of requests over it is judged' }),
    quantiles: z
      .strictObject({ green: latencyBoundsSchema, blue: latencyBoundsSchema })
      .optional()
      .meta({ description: "compare_to_blue.max_latency_p95_ratio: each arm's p95 (ms) with its bounds; estimate, lower and upper are then ratios" }),
  })
  .meta({ description: 'The judged rate with its anytime-valid one-sided lower and upper bounds (green minus blue for comparisons)' });

const checkReportSchema = z.strictObject({
  rule: z.enum(RULES),
  status: z.enum(CHECK_STATUSES),
  figure: z.number().nullable(),
  limit: z.number(),
  unit: z.enum(UNITS),
  sample: count,
  blueSample: count.nullable().meta({ description: "Blue's sample, for compare_to_blue rules" }),
  interval: evidenceSchema.nullable().meta({ description: 'Sequential rules: estimate and bounds; null for streak and health rules' }),
  summary: z.string().meta({ description: 'One sentence: "green error_rate 31.2% > 5.0% over 48 requests"' }),
});

const stageReportSchema = z.strictObject({
  index: count.meta({ description: '0-based, as in state.json and events' }),
  number: z.number().int().positive().meta({ description: '1-based, as in messages ("stage 3")' }),
  name: z.string().nullable(),
  greenWeight: ratio.meta({ description: 'Planned share of traffic on green' }),
  plannedDurationMs: ms,
  durationMs: ms.nullable().meta({ description: 'Time the stage actually ran; null if it never started' }),
  startedAt: iso.nullable(),
  endedAt: iso.nullable(),
  startedAtMs: count.nullable(),
  endedAtMs: count.nullable(),
  verdict: z.enum(STAGE_VERDICTS),
  arms: z.strictObject({ blue: armReportSchema, green: armReportSchema }),
  checks: z.array(checkReportSchema),
  checksSource: z.enum(CHECK_SOURCES),
});

const breachReportSchema = z.strictObject({
  rule: z.enum(RULES),
  figure: z.number().nullable(),
  limit: z.number(),
  unit: z.enum(UNITS),
  sample: count,
  interval: evidenceSchema.nullable(),
  message: z.string(),
  stageIndex: count.nullable().meta({ description: '0-based stage the breach happened in' }),
});

const outcomeSchema = z.strictObject({
  phase: z.enum(PHASES),
  finished: z.boolean(),
  promoted: z.boolean().meta({ description: 'True only when green was promoted (exit 0)' }),
  exitCode: z.number().int().nullable().meta({ description: 'null only for a report of a rollout still running' }),
  meaning: z.string(),
  reason: z.string().nullable(),
  breach: breachReportSchema.nullable(),
  stageIndex: count.nullable().meta({ description: '0-based stage the rollout ended in (the one that decided it)' }),
});

const timingsSchema = z.strictObject({
  startedAt: iso,
  endedAt: iso.nullable(),
  startedAtMs: count,
  endedAtMs: count.nullable(),
  durationMs: ms.meta({ description: 'Start to end (or to the last update, if still running)' }),
});

const priceSchema = z.strictObject({ inputPerMtok: z.number().nonnegative(), outputPerMtok: z.number().nonnegative() }).nullable();

const planReportSchema = z.strictObject({
  name: z.string(),
  file: z.string(),
  hash: z.string().meta({ description: 'sha256 of the plan text' }),
  blueModel: z.string(),
  greenModel: z.string(),
  stageCount: z.number().int().positive(),
  prices: z.strictObject({ blue: priceSchema, green: priceSchema }),
});

const totalsArmSchema = z.strictObject({
  requests: count,
  successes: count,
  failures: count,
  errorRate: ratio.nullable(),
  retries: count,
  dropped: count,
  tokens: z.strictObject({ prompt: count, completion: count }),
  costUsd: z.number().nonnegative(),
});

const costArmSchema = z.strictObject({
  priced: z.boolean().meta({ description: 'False when the plan gives the arm no price: its cost is unknown, not 0' }),
  costUsd: z.number().nonnegative().nullable(),
  requests: count,
  usdPer1kRequests: z.number().nonnegative().nullable(),
});

const costReportSchema = z.strictObject({
  blue: costArmSchema,
  green: costArmSchema,
  greenVsBlue: z.number().nullable().meta({ description: 'Green per-1k cost relative to blue: -0.84 is 84% cheaper; null when either is unknown' }),
});

export const reportSchema = z.strictObject({
  reportVersion: z.literal(REPORT_VERSION),
  bluegreenVersion: z.string(),
  plan: planReportSchema,
  outcome: outcomeSchema,
  timings: timingsSchema,
  stages: z.array(stageReportSchema),
  totals: z.strictObject({ blue: totalsArmSchema, green: totalsArmSchema }),
  cost: costReportSchema,
  live: liveReportSchema.nullable(),
});

export type RolloutReport = z.infer<typeof reportSchema>;
export type StageReport = z.infer<typeof stageReportSchema>;
export type ArmReport = z.infer<typeof armReportSchema>;
export type CheckReport = z.infer<typeof checkReportSchema>;
export type CheckStatus = (typeof CHECK_STATUSES)[number];
export type OutcomeReport = z.infer<typeof outcomeSchema>;
export type CostReport = z.infer<typeof costReportSchema>;

/** The report's JSON Schema, for consumers who validate in another language. */
export function reportJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(reportSchema);
}
