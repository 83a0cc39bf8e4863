import { describe, expect, it } from 'vitest';
import type { RolloutSnapshot } from '../../../src/engine/types.js';
import { buildReport, renderJunit, reportJsonSchema, reportSchema, type RolloutReport } from '../../../src/report/outcome/index.js';
import { arm, loadTestPlan, planYaml, promotedSnapshot, rolledBackSnapshot, START } from './fixtures.js';
import { planFromYaml } from '../../helpers/plans.js';
import type { LiveView } from '../../../src/live/fleet.js';

const plan = loadTestPlan();

function reportOf(snapshot: RolloutSnapshot, p = plan): RolloutReport {
  const report = buildReport({ snapshot, plan: p, version: '9.9.9' });
  // What a consumer does: read the file back and validate it against the documented schema.
  return reportSchema.parse(JSON.parse(JSON.stringify(report)));
}

describe('buildReport: a promoted rollout', () => {
  const report = reportOf(promotedSnapshot(plan));

  it('parses with its schema and names the plan, version and outcome', () => {
    expect(report.reportVersion).toBe(1);
    expect(report.bluegreenVersion).toBe('9.9.9');
    expect(report.plan).toMatchObject({ name: 'gpt-4o-to-gpt-4.1', blueModel: 'gpt-4o', greenModel: 'gpt-4.1', stageCount: 5, hash: plan.source.hash });
    expect(report.plan.prices.green).toEqual({ inputPerMtok: 2, outputPerMtok: 8 });
    expect(report.outcome).toMatchObject({
      phase: 'promoted',
      finished: true,
      promoted: true,
      exitCode: 0,
      meaning: 'promoted (exit 0)',
      breach: null,
      stageIndex: 4,
    });
    expect(report.timings.startedAt).toBe(new Date(START).toISOString());
    expect(report.timings.durationMs).toBe(5 * 60_000 + 250);
  });

  it('has every stage with its figures, and each stage its threshold checks', () => {
    expect(report.stages.map((s) => [s.number, s.greenWeight, s.verdict])).toEqual([
      [1, 0.1, 'passed'],
      [2, 0.25, 'passed'],
      [3, 0.5, 'passed'],
      [4, 0.75, 'passed'],
      [5, 1, 'passed'],
    ]);
    const stage3 = report.stages[2]!;
    expect(stage3.arms.green).toMatchObject({ requests: 600, failures: 3, errorRate: 0.005, failuresByClass: { server_error: 3 }, retries: 3 });
    expect(stage3.arms.green.latency.p95).toBe(900);
    expect(stage3.durationMs).toBe(60_000);
    expect(stage3.checks.map((c) => c.rule)).toEqual(['consecutive_errors', 'error_rate', 'compare_to_blue.max_error_rate_increase', 'latency_p95']);
    // 3 of 600 green failures: shown within 5%; 0.5% vs blue's 0.17% is not yet shown within +2 points.
    expect(stage3.checks.map((c) => c.status)).toEqual(['ok', 'ok', 'undecided', 'ok']);
    expect(stage3.checks[1]!.interval).toMatchObject({ estimate: 0.005, limit: 0.05 });
    // Every stage passed on checks the engine kept.
    expect(report.stages.map((s) => s.checksSource)).toEqual(['engine', 'engine', 'engine', 'engine', 'engine']);
    // Stage 5 sent nothing to blue: blue has no latency figures, only nulls.
    expect(report.stages[4]!.arms.blue.latency).toEqual({ p50: null, p95: null, p99: null, max: null, mean: null, count: 0 });
  });

  it("says an arm's neutral results (live traffic's, judged by no rule) apart, and passes its schema", () => {
    const snapshot = promotedSnapshot(plan);
    const stage = snapshot.stages[2]!;
    stage.arms.green = { ...stage.arms.green, neutral: 7 };
    const report = reportOf(snapshot);
    expect(report.stages[2]!.arms.green).toMatchObject({ requests: 600, failures: 3, errorRate: 0.005, neutral: 7 });
    expect(report.stages[1]!.arms.green).not.toHaveProperty('neutral');
  });

  it("says a live stage's neutral results apart in `live`, and passes its schema", () => {
    const snapshot = promotedSnapshot(plan);
    const live: LiveView = {
      leaseMs: 5000,
      proxies: [],
      stages: [{ stage: 2, arms: { blue: { requests: 3, failures: 0, neutral: 2 }, green: { requests: 1, failures: 0 } }, fallbacks: 0, mirrors: 0 }],
    };
    const report = reportSchema.parse(JSON.parse(JSON.stringify(buildReport({ snapshot, plan, version: '9.9.9', live }))));
    expect(report.live?.stages[0]?.live).toEqual({ blue: { requests: 3, failures: 0, neutral: 2 }, green: { requests: 1, failures: 0 } });
  });

  it('leaves rates unjudged on too few requests, and says so', () => {
    const errorRate = report.stages[0]!.checks.find((c) => c.rule === 'error_rate')!;
    expect(errorRate.status).toBe('waiting');
    expect(errorRate.summary).toBe('green error_rate not judged: 12 requests, 20 needed');
  });

  it('adds up totals and compares cost per 1k requests', () => {
    expect(report.totals.green.requests).toBe(12 + 300 + 600 + 900 + 1200);
    expect(report.totals.blue.requests).toBe(1080 + 900 + 600 + 300);
    const sum = report.stages.reduce((total, s) => total + s.arms.green.costUsd, 0);
    expect(report.totals.green.costUsd).toBeCloseTo(sum, 8);
    expect(report.cost.green.priced).toBe(true);
    expect(report.cost.blue.usdPer1kRequests).toBeGreaterThan(report.cost.green.usdPer1kRequests!);
    // Green's prices are 20% lower and its token counts per request about the same.
    expect(report.cost.greenVsBlue!).toBeCloseTo(-0.2, 1);
  });
});

describe('buildReport: rolled back at stage 3', () => {
  const report = reportOf(rolledBackSnapshot(plan));

  it('names the breached rule with its figures and the stage', () => {
    expect(report.outcome).toMatchObject({
      phase: 'rolled_back',
      promoted: false,
      exitCode: 10,
      meaning: 'rolled back automatically (exit 10)',
      stageIndex: 2,
    });
    expect(report.outcome.breach).toMatchObject({ rule: 'error_rate', figure: 15 / 48, limit: 0.05, unit: 'ratio', sample: 48, stageIndex: 2 });
    expect(report.outcome.reason).toMatch(
      /^green error_rate 31\.\d% \(at least 8\.3%, 99\.93% sure\) > 5\.0% over 48 requests in stage 3; green failures: server_error 15$/,
    );
    expect(report.outcome.breach?.interval).toMatchObject({ estimate: 15 / 48, limit: 0.05 });
  });

  it('gives stage 3 the checks the engine judged, with one-sentence summaries', () => {
    const stage3 = report.stages[2]!;
    expect(stage3.verdict).toBe('failed');
    expect(stage3.checksSource).toBe('engine');
    expect(stage3.durationMs).toBe(9_400);
    const byRule = Object.fromEntries(stage3.checks.map((c) => [c.rule, c]));
    expect(byRule.error_rate).toMatchObject({ status: 'breach', sample: 48 });
    expect(byRule.error_rate!.summary).toMatch(/^green error_rate 31\.\d% > 5\.0% over 48 requests \(bounds 8\.3–66\.0%, each 99\.93% sure\)$/);
    // 48 green requests show green over 5%, but not yet more than 2 points worse than blue at alpha / 2 each.
    expect(byRule['compare_to_blue.max_error_rate_increase']).toMatchObject({ status: 'undecided', blueSample: 144 });
    expect(byRule['compare_to_blue.max_error_rate_increase']!.summary).toMatch(
      /^green error rate vs blue \+29\.\d points vs \+2\.0 allowed \(green 48, blue 144 requests\) \(bounds -?[+]?[\d.]+ to \+[\d.]+ points, each 99\.93% sure\): undecided$/,
    );
    expect(byRule.consecutive_errors!.summary).toBe('green consecutive_errors 3 < 5 (failures in a row)');
    expect(byRule.latency_p95!.summary).toBe(
      'green latency_p95 900ms vs 5.00s over 48 requests; 0.0% over 5.00s (bounds 0.0–16.3%, each 99.93% sure): undecided',
    );
  });

  it('marks the stages that never ran as not run, with no figures', () => {
    for (const stage of report.stages.slice(3)) {
      expect(stage.verdict).toBe('skipped');
      expect(stage.durationMs).toBeNull();
      expect(stage.startedAt).toBeNull();
      expect(stage.checksSource).toBe('not_run');
      expect(stage.checks.map((c) => c.status)).toEqual(['not_run', 'not_run', 'not_run', 'not_run']);
      expect(stage.checks[0]!.summary).toBe('green consecutive_errors not judged: the stage did not run');
    }
  });
});

describe('buildReport: edge cases', () => {
  it('blames the stage being entered when its on_stage hook failed (the engine leaves it "skipped")', () => {
    const snapshot = rolledBackSnapshot(plan);
    const stages = snapshot.stages.map((s, i) => (i === 2 ? { ...s, verdict: 'skipped' as const, startedAt: undefined, endedAt: undefined } : s));
    const breach = { rule: 'hook' as const, figure: null, limit: 0, unit: 'count' as const, sample: 0, message: 'on_stage hook for stage 3 failed: exit 1' };
    const report = reportOf({ ...snapshot, stages, stageIndex: 1, checks: [], breach, reason: breach.message });
    expect(report.stages.map((s) => s.verdict)).toEqual(['passed', 'passed', 'failed', 'skipped', 'skipped']);
    expect(report.outcome.stageIndex).toBe(2);
    expect(report.outcome.breach).toMatchObject({ rule: 'hook', figure: null, stageIndex: 2 });
  });

  it("re-judges a stage no check decided, not with the latest checks (an earlier stage's when interrupted right after a stage change)", () => {
    const snapshot = rolledBackSnapshot(plan);
    const stages = snapshot.stages.map((s, i) => (i === 2 ? { ...s, verdict: 'aborted' as const, checks: undefined } : s));
    const staleChecks = promotedSnapshot(plan).checks; // judged on 1,200 green requests
    const reason = 'interrupted by SIGINT; rolled back to blue';
    const report = reportOf({ ...snapshot, stages, phase: 'interrupted', exitCode: 130, breach: undefined, reason, checks: staleChecks });
    const stage3 = report.stages[2]!;
    expect(stage3.verdict).toBe('aborted');
    expect(stage3.checksSource).toBe('recomputed');
    expect(stage3.checks.find((c) => c.rule === 'error_rate')).toMatchObject({ status: 'breach', sample: 48 });
    expect(stage3.checks.some((c) => c.rule === 'health_check')).toBe(false);
    expect(report.outcome).toMatchObject({
      phase: 'interrupted',
      exitCode: 130,
      breach: null,
      stageIndex: 2,
      meaning: 'interrupted by SIGINT, rolled back to blue (exit 130)',
    });
  });

  it("keeps the health check's latest state on the stage the rollout ended in, even when re-judged", () => {
    const snapshot = rolledBackSnapshot(plan);
    const stages = snapshot.stages.map((s, i) => (i === 2 ? { ...s, verdict: 'aborted' as const, checks: undefined } : s));
    const health = { rule: 'health_check' as const, status: 'ok' as const, figure: 1, limit: 3, unit: 'count' as const, sample: 40, proximity: 1 / 3 };
    const report = reportOf({ ...snapshot, stages, phase: 'aborted', exitCode: 4, breach: undefined, reason: 'aborted by alice', checks: [health] });
    const check = report.stages[2]!.checks.find((c) => c.rule === 'health_check');
    expect(check).toMatchObject({ status: 'ok', figure: 1, limit: 3, sample: 40, summary: 'green health check 1 failures in a row < 3' });
    expect(report.stages[1]!.checks.some((c) => c.rule === 'health_check')).toBe(false);
  });

  it('shows a passed stage with the checks it passed on, though answers that came after make its figures breach', () => {
    const snapshot = promotedSnapshot(plan);
    // Stage 2 passed on 300 green requests, 1 failed; 60 requests in flight at its end answered later, failing.
    const late = snapshot.stages.map((s, i) => (i === 1 ? { ...s, arms: { ...s.arms, green: arm(360, 61, { input: 2, output: 8 }, 900) } } : s));
    const report = reportOf({ ...snapshot, stages: late });
    const stage2 = report.stages[1]!;
    expect(stage2).toMatchObject({ verdict: 'passed', checksSource: 'engine' });
    expect(stage2.arms.green).toMatchObject({ requests: 360, failures: 61 });
    expect(stage2.checks.find((c) => c.rule === 'error_rate')).toMatchObject({ status: 'ok', sample: 300, figure: 1 / 300 });
    expect(renderJunit(report)).not.toContain('<failure');
    // Judged again, those figures would have failed the stage the rollout passed.
    const { checks: _kept, ...unjudged } = late[1]!;
    const rejudged = reportOf({ ...snapshot, stages: late.map((s, i) => (i === 1 ? unjudged : s)) }).stages[1]!;
    expect(rejudged.checksSource).toBe('recomputed');
    expect(rejudged.checks.find((c) => c.rule === 'error_rate')).toMatchObject({ status: 'breach', sample: 360 });
  });

  it('re-judges a stage a state.json from before the judgement was kept does not hold it for', () => {
    const snapshot = promotedSnapshot(plan);
    const stages = snapshot.stages.map((s) => ({ ...s, checks: undefined }));
    const report = reportOf({ ...snapshot, stages });
    expect(report.stages.map((s) => s.checksSource)).toEqual(['recomputed', 'recomputed', 'recomputed', 'recomputed', 'recomputed']);
    expect(report.stages[2]!.checks.map((c) => c.status)).toEqual(['ok', 'ok', 'undecided', 'ok']);
  });

  it('gives no cost for an arm without a price, and no comparison', () => {
    const unpriced = planFromYaml(planYaml().replace(', price: { input_per_mtok: 2.00, output_per_mtok: 8.00 }', ''));
    const report = reportOf(promotedSnapshot(unpriced), unpriced);
    expect(report.plan.prices.green).toBeNull();
    expect(report.cost.green).toMatchObject({ priced: false, costUsd: null, usdPer1kRequests: null });
    expect(report.cost.greenVsBlue).toBeNull();
  });

  it('describes a rollout still running without inventing an exit code', () => {
    const live = promotedSnapshot(plan);
    const report = reportOf({ ...live, phase: 'progressing', exitCode: undefined, endedAt: undefined, reason: undefined });
    expect(report.outcome).toMatchObject({ finished: false, promoted: false, exitCode: null, meaning: 'still running (progressing)' });
    expect(report.timings.endedAt).toBeNull();
  });

  it('exports a JSON Schema of the report', () => {
    const schema = reportJsonSchema();
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties as object)).toEqual([
      'reportVersion',
      'bluegreenVersion',
      'plan',
      'outcome',
      'timings',
      'stages',
      'totals',
      'cost',
      'live',
    ]);
  });

  // Before: "the last lease ran out at", though a proxy that missed the ending may still hold it.
  it("describes a live proxy's leaseExpiresAt as a time that may be to come", () => {
    const live = reportJsonSchema().properties as Record<
      string,
      { anyOf?: { properties?: Record<string, { items?: { properties?: Record<string, { description?: string }> } }> }[] }
    >;
    const proxy = live.live?.anyOf?.find((option) => option.properties)?.properties?.proxies?.items?.properties;
    const description = proxy?.leaseExpiresAt?.description;
    expect(description).toContain('past or still to come');
    expect(description).not.toContain('ran out');
  });
});
