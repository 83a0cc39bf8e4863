// state.json's shape, checked on read: a hand-edited or foreign file gets a message naming the bad key, not a
// crash deep inside `status`. Objects are loose (newer writers may add keys); what readers use is typed.
import { z } from 'zod';
import { FINAL_PHASES } from '../engine/types.js';
import { MAX_TIME_MS } from '../core/clock.js';

const num = z.number();
const count = z.number().int().nonnegative();
const weight = z.number().min(0).max(1);
// A time every reader shows as a date (a hand-edited 9e15 made `status` fail with "Invalid time value").
const time = z.number().min(0).max(MAX_TIME_MS, `must be a time in epoch ms, at most ${MAX_TIME_MS}`);

const percentiles = z.object({ p95: num }).loose().nullable();

const armStats = z
  .object({
    requests: count,
    successes: count.optional(),
    failures: count,
    latency: percentiles,
    costUsd: num,
    dropped: count.optional(),
    inFlight: count.optional(),
    // Base64 texts for rollout --resume; one that does not decode is left out there with a warning (metrics/carry.ts).
    histograms: z.object({ latency: z.string().optional(), ttft: z.string().optional() }).loose().optional(),
  })
  .loose();

const check = z.object({ rule: z.string(), status: z.string(), figure: num.nullable(), limit: num, unit: z.string(), sample: num }).loose();

const stageStats = z
  .object({
    index: count,
    greenWeight: weight,
    durationMs: num.optional(),
    verdict: z.string(),
    arms: z.object({ blue: armStats, green: armStats }).loose(),
    // The checks that decided the stage (metrics/types.ts): the report shows them, rollout --resume carries them.
    checks: z.array(check).optional(),
  })
  .loose();

const event = z.object({ at: time, type: z.string(), message: z.string() }).loose();

const snapshotSchema = z
  .object({
    version: z.literal(1),
    plan: z
      .object({
        name: z.string(),
        blueModel: z.string(),
        greenModel: z.string(),
        stages: z.array(z.object({ durationMs: num, greenWeight: weight }).loose()),
        minRequests: z.number().int().positive().optional(),
      })
      .loose(),
    pid: z.number().int(),
    pidStart: z.string().optional(),
    bootId: z.string().optional(),
    phase: z.enum(['starting', 'progressing', 'paused', ...FINAL_PHASES] as [string, ...string[]]),
    startedAt: time,
    updatedAt: time,
    endedAt: time.optional(),
    stageIndex: count,
    stageElapsedMs: num,
    greenWeight: weight,
    stages: z.array(stageStats),
    checks: z.array(check),
    reason: z.string().optional(),
    exitCode: z.number().int().optional(),
    recentEvents: z.array(event),
  })
  .loose()
  // A stage past the plan's last (a hand-edited file): `--resume` took it as every stage passed, and promoted.
  .superRefine((snapshot, ctx) => {
    const stages = snapshot.plan.stages.length;
    if (snapshot.stageIndex >= Math.max(1, stages)) {
      ctx.addIssue({ code: 'custom', path: ['stageIndex'], message: `${snapshot.stageIndex} is past the plan's last stage (it has ${stages})` });
    }
  });

/** Why the value is not a usable snapshot, in one line naming the keys ("stages[2].verdict: ..."), or undefined. */
export function snapshotProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not a JSON object';
  const version = (value as Record<string, unknown>).version;
  if (version !== 1) return `it has version ${JSON.stringify(version)}, this bluegreen reads version 1`;
  const result = snapshotSchema.safeParse(value);
  if (result.success) return undefined;
  const issues = result.error.issues;
  const shown = issues.slice(0, 3).map((issue) => `${issue.path.length ? `${formatPath(issue.path)}: ` : ''}${issue.message.replace(/^Invalid input: /, '')}`);
  return `${shown.join('; ')}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`)).join('');
}
