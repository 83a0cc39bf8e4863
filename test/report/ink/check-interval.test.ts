// The dashboard's check lines carry each rule's interval, and undecided rules read as open, not ok.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/analysis/index.js';
import { emptyArmStats } from '../../../src/metrics/types.js';
import { checkInterval, checkLine, checkStatusText } from '../../../src/report/ink/check-lines.js';
import { loadTestPlan } from '../outcome/fixtures.js';

describe('dashboard check lines', () => {
  const plan = loadTestPlan();
  const green = { ...emptyArmStats(), requests: 60, successes: 57, failures: 3 };
  const blue = { ...emptyArmStats(), requests: 500, successes: 499, failures: 1 };
  const { checks } = evaluate({ stageIndex: 0, stageCount: 5, green, blue, config: plan.analysis });
  const errorRate = checks.find((c) => c.rule === 'error_rate')!;
  const compare = checks.find((c) => c.rule === 'compare_to_blue.max_error_rate_increase')!;

  it('shows the interval after the sample, in points for comparisons', () => {
    expect(checkInterval(errorRate)).toMatch(/^99\.93% [\d.]+–[\d.]+%$/);
    expect(checkInterval(compare)).toMatch(/^99\.93% -[\d.]+ to \+[\d.]+ points$/);
    expect(
      checkLine(errorRate)
        .map((cell) => cell.text)
        .join(''),
    ).toMatch(/n=60 {2}99\.93% [\d.]+–[\d.]+%$/);
  });

  it('says open (or near?) for an undecided rule', () => {
    expect(errorRate.status).toBe('undecided');
    expect(checkStatusText(errorRate)).toBe('near?');
    expect(checkStatusText({ ...errorRate, proximity: 0.1 })).toBe('open');
  });
});
