// The line reporter's checks line: every judged rule with its estimate, interval, limit and status.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/index.js';
import { emptyArmStats } from '../../src/metrics/types.js';
import { formatChecksLine } from '../../src/report/line.js';
import { loadTestPlan, promotedSnapshot } from './outcome/fixtures.js';

describe('formatChecksLine', () => {
  it('lists each sequential check with its interval, and nothing before any check', () => {
    const plan = loadTestPlan();
    const snapshot = promotedSnapshot(plan);
    const green = { ...emptyArmStats(), requests: 400, successes: 392, failures: 8, slow: { latency: { 5000: 4 }, ttft: {} } };
    const blue = { ...emptyArmStats(), requests: 1200, successes: 1194, failures: 6 };
    const { checks } = evaluate({ stageIndex: 1, stageCount: 5, green, blue, config: plan.analysis });
    const line = formatChecksLine({ ...snapshot, stageIndex: 1, checks }, Date.UTC(2025, 0, 15, 12, 0, 5));
    expect(line).toMatch(
      /^12:00:05\.000 checks {11}stage 2\/5 \(99\.93% intervals\): error_rate 2\.0% \[[\d.]+–[\d.]+%\] vs 5\.0% (ok|undecided) \| compare_to_blue\.max_error_rate_increase \+1\.5pt \[-[\d.]+ to \+[\d.]+ points\] vs \+2\.0pt undecided \| latency_p95 over 5\.00s 1\.0% \[[\d.]+–[\d.]+%\] vs 5\.0% (ok|undecided)$/,
    );
    expect(formatChecksLine({ ...snapshot, checks: [] }, 0)).toBeUndefined();
  });
});
