// A green that answered fewer than min_requests successfully and failed most of its requests judged nothing
// (src/engine/unjudged.ts): unless the plan's thresholds.error_rate allows that many failures, in which case the
// rule judged them as the plan asked. Found by tidy16: error_rate: 0.6 and a green failing 55% of a stage's 40
// requests, within its limit, ended in nothing_judged.
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/analysis/types.js';
import { unjudgedStage } from '../../src/engine/unjudged.js';
import { emptyArmStats, type StageStats } from '../../src/metrics/types.js';
import { halfThenAll, planFromYaml, planYaml } from '../helpers/plans.js';

const planWith = (errorRate: number) =>
  planFromYaml(
    planYaml({
      name: 'error-limit',
      upstream: 'simulate: { models: {} }',
      traffic: 'rate: 20',
      stages: halfThenAll('4s'),
      analysis: ['min_requests: 20', `thresholds: { error_rate: ${errorRate} }`],
    }),
  );

/** Stage 1 with green's and blue's figures: `requests` each, `successes` of green's answered well, all of blue's. */
function stage(requests: number, successes: number): StageStats {
  const arm = (ok: number) => ({ ...emptyArmStats(), requests, successes: ok, failures: requests - ok });
  return { index: 0, greenWeight: 0.5, durationMs: 4_000, verdict: 'passed', arms: { blue: arm(requests), green: arm(successes) } };
}

/** The error_rate check as it passed: decided on all of green's requests. */
const passed = (requests: number): CheckResult[] => [
  { rule: 'error_rate', status: 'undecided', figure: 0.55, limit: 0.6, unit: 'ratio', sample: requests, proximity: null },
];

describe('a stage whose green failed most of its requests, with few successes', () => {
  it('judged nothing under an error_rate below 1/2: 22 failures of 40, 18 answers under min_requests 20', () => {
    expect(unjudgedStage(planWith(0.05), 0, passed(40), [stage(40, 18)])).toMatchObject({ kind: 'failed', requests: 40, successes: 18 });
  });

  it('was judged by an error_rate above 1/2 that allows that many failures (0.6 against 55%)', () => {
    expect(unjudgedStage(planWith(0.6), 0, passed(40), [stage(40, 18)])).toBeUndefined();
  });

  it('judged nothing when it failed more than even that error_rate allows (0.6 against 70%)', () => {
    expect(unjudgedStage(planWith(0.6), 0, passed(40), [stage(40, 12)])).toMatchObject({ kind: 'failed', successes: 12 });
  });
});
