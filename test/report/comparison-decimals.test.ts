// A stage's comparisons with blue share one precision on every surface (dashboard, status, the Markdown report): each
// on its own, "error rate vs blue +0.0pt / +3.0pt" sat above "quality vs blue -0.16pt / +5.00pt" in the demo's stage 4
// (session 35's user test).
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/analysis/types.js';
import { comparisonDecimals } from '../../src/report/check-value.js';
import { checkSectionLines } from '../../src/report/ink/check-lines.js';
import { lineText } from '../../src/report/ink/view-types.js';
import { renderStatus } from '../../src/report/status-text.js';
import { progressingSnapshot } from './ink/fixtures.js';

const evidence = (lower: number, upper: number, limit: number) => ({ estimate: 0, lower, upper, limit, confidence: 0.9995 });
const ERROR_VS_BLUE: CheckResult = {
  rule: 'compare_to_blue.max_error_rate_increase',
  status: 'undecided',
  figure: 0,
  limit: 0.03,
  unit: 'ratio',
  sample: 28,
  blueSample: 616,
  proximity: 0,
  evidence: evidence(-0.021, 0.686, 0.03),
};
const QUALITY_VS_BLUE: CheckResult = {
  rule: 'compare_to_blue.max_quality_fail_rate_increase',
  status: 'undecided',
  figure: -0.0016,
  limit: 0.05,
  unit: 'ratio',
  sample: 28,
  blueSample: 616,
  proximity: 0,
  evidence: evidence(-0.0252, 0.6858, 0.05),
};

describe('the comparisons of one stage', () => {
  const snapshot = { ...progressingSnapshot(), checks: [ERROR_VS_BLUE, QUALITY_VS_BLUE] };

  it('take the decimals the most exact of them needs: two here (-0.16), for both rows', () => {
    expect(comparisonDecimals(snapshot.checks)).toBe(2);
    expect(comparisonDecimals([ERROR_VS_BLUE])).toBe(1);
    expect(comparisonDecimals([])).toBeUndefined();
  });

  it('read alike on the dashboard', () => {
    const lines = checkSectionLines(snapshot, 100).map(lineText);
    expect(lines.find((line) => line.includes('error rate vs blue'))).toMatch(/\+0\.00pt \/ \+3\.00pt .* -2\.10 to \+68\.60pt$/);
    expect(lines.find((line) => line.includes('quality vs blue'))).toMatch(/-0\.16pt \/ \+5\.00pt .* -2\.52 to \+68\.58pt$/);
  });

  it('read alike in status', () => {
    const text = renderStatus(snapshot, { alive: true, pid: 1 }, snapshot.updatedAt);
    expect(text).toMatch(/compare_to_blue\.max_error_rate_increase\s+\+0\.00 points \/ \+3\.00 points/);
    expect(text).toMatch(/compare_to_blue\.max_quality_fail_rate_increase\s+-0\.16 points \/ \+5\.00 points/);
  });
});
