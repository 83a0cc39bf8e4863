// error_rate and quality_fail_rate judge green since each stage began (src/analysis/since-stage.ts): each stage's
// test runs on to the rollout's end at the stage's share of the budget, so a regression that outlasts its stage is
// judged on all its requests, and one that starts late is judged from its stage on.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/index.js';
import type { EvaluateInput, RuleName } from '../../src/analysis/index.js';
import { emptyArmStats, type ArmStats } from '../../src/metrics/index.js';
import type { AnalysisConfig } from '../../src/plan/schema.js';
import { analysisConfig } from '../helpers/plans.js';
import { seededRollout } from '../helpers/seeded-rollout.js';

function arm(requests: number, failures: number, extra: Partial<ArmStats> = {}): ArmStats {
  return { ...emptyArmStats(), requests, failures, successes: requests - failures, ...extra };
}

/** Stage `greenStages.length` of 5 (its green last), blue failing nothing. */
function judged(config: AnalysisConfig, greenStages: ArmStats[], withStages = true) {
  const green = greenStages[greenStages.length - 1] as ArmStats;
  const input: EvaluateInput = { stageIndex: greenStages.length - 1, stageCount: 5, green, blue: arm(1000, 0), config };
  if (withStages) input.greenStages = greenStages;
  return evaluate(input);
}

function check(verdict: ReturnType<typeof evaluate>, rule: RuleName) {
  return verdict.checks.find((c) => c.rule === rule);
}

describe('error_rate since each stage began (known values)', () => {
  // One rule over 5 stages at 99%: alpha 0.002 a check. 200 of 5,000 (4%): lower bound 2.988%, under the 3% limit;
  // 400 of 10,000: lower bound 3.253%, over it.
  const config = analysisConfig({ thresholds: { error_rate: 0.03 } });

  it('breaches on green since stage 1 began when neither stage alone shows it', () => {
    const stages = [arm(5000, 200), arm(5000, 200)];
    expect(judged(config, stages, false).breach).toBeUndefined();
    const verdict = judged(config, stages);
    expect(verdict.breach?.rule).toBe('error_rate');
    expect(verdict.breach?.sample).toBe(10_000);
    expect(verdict.breach?.message).toMatch(
      /^green error_rate 4\.0% \(at least 3\.3%, 99\.8% sure\) > 3\.0% over 10000 requests since stage 1 began, in stage 2/,
    );
  });

  it('says the stage’s own breach when the stage alone shows it', () => {
    const verdict = judged(config, [arm(5000, 200), arm(5000, 300)]);
    expect(verdict.breach?.message).toMatch(/ over 5000 requests in stage 2/);
  });

  it('counts every stage’s requests still running as outcomes unknown', () => {
    // The same failures, but 1,000 of stage 1's requests still running: 400 of 11,000 is no longer over 3% for sure
    // (lower bound 2.95%); with 300 running it still is (3.16%).
    expect(judged(config, [arm(5000, 200, { inFlight: 300 }), arm(5000, 200)]).breach?.rule).toBe('error_rate');
    const verdict = judged(config, [arm(5000, 200, { inFlight: 1000 }), arm(5000, 200)]);
    expect(verdict.breach).toBeUndefined();
  });

  it('shows the stage’s own figures while no window breaches', () => {
    const verdict = judged(config, [arm(5000, 100), arm(5000, 140)]);
    expect(verdict.breach).toBeUndefined();
    expect(check(verdict, 'error_rate')).toMatchObject({ sample: 5000, figure: 140 / 5000 });
  });

  it('never breaches on a green exactly at its limit however many stages it spans', () => {
    expect(judged(config, [arm(5000, 150), arm(5000, 150), arm(5000, 150), arm(5000, 150)]).breach).toBeUndefined();
  });

  it('judges quality_fail_rate since each stage began too, over the successes', () => {
    const quality = analysisConfig({ thresholds: { quality_fail_rate: 0.03 } });
    const stage = (): ArmStats => ({ ...arm(5000, 0), qualityFailures: 200 });
    expect(judged(quality, [stage(), stage()], false).breach).toBeUndefined();
    expect(judged(quality, [stage(), stage()]).breach?.message).toMatch(/ over 10000 successful responses since stage 1 began, in stage 2/);
  });

  it('leaves the comparisons with blue within the stage', () => {
    const compare = analysisConfig({ thresholds: {}, compare_to_blue: { max_error_rate_increase: 0.01 } });
    // 4% against blue's 2% over 5,000 a side is not enough for the comparison; twice as much of green would be.
    const input = (greenStages?: ArmStats[]): EvaluateInput => ({
      stageIndex: 1,
      stageCount: 5,
      green: arm(5000, 200),
      blue: arm(5000, 100),
      blueStages: [arm(5000, 100), arm(5000, 100)],
      greenWeight: 0.5,
      plannedBlue: [5000, 5000],
      config: compare,
      ...(greenStages ? { greenStages } : {}),
    });
    expect(evaluate(input()).breach).toBeUndefined();
    expect(evaluate(input([arm(5000, 200), arm(5000, 200)])).breach).toBeUndefined();
  });
});

// Seeded rollouts at 20 req/s, 5 x 60 s at 10/25/50/75/100% green, judged every second and at each stage's end,
// error_rate 0.05 alone. `rates(stage)`: green's failure rate in each stage.
const WEIGHTS = [0.1, 0.25, 0.5, 0.75, 1];

function rollouts(count: number, config: AnalysisConfig, rates: (stage: number) => number, sinceEachStage: boolean): number {
  let rolledBack = 0;
  for (let i = 0; i < count; i++) {
    const greenStages: ArmStats[] = [];
    const shape = { weights: WEIGHTS, stageMs: 60_000, rate: 20, intervalMs: config.interval };
    const rollback = seededRollout(3300 + i, shape, (s) => {
      const arms = { blue: emptyArmStats(), green: emptyArmStats() };
      greenStages.push(arms.green);
      return {
        judge: () =>
          evaluate({ stageIndex: s, stageCount: WEIGHTS.length, green: arms.green, blue: arms.blue, ...(sinceEachStage ? { greenStages } : {}), config }).breach
            ?.rule,
        arrive: (_at, rng) => {
          const a = rng() < (WEIGHTS[s] as number) ? arms.green : arms.blue;
          a.requests++;
          if (rng() < rates(s)) a.failures++;
          else a.successes++;
        },
      };
    });
    if (rollback) rolledBack++;
  }
  return rolledBack;
}

describe('error_rate since each stage began (seeded rollouts)', () => {
  it('catches more of a green that fails 7% against a 5% limit from the 75% stage on', () => {
    // Green at 2% until the 75% stage, then 7%: the two last stages carry ~2,100 green requests, ~900 and ~1,200.
    // Measured: 27 of 60 caught judging each stage apart, 38 since each stage began.
    const config = analysisConfig({ interval: 1000, thresholds: { error_rate: 0.05 } });
    const late = (s: number) => (s >= 3 ? 0.07 : 0.02);
    const stageAlone = rollouts(60, config, late, false);
    const since = rollouts(60, config, late, true);
    expect(since).toBeGreaterThanOrEqual(stageAlone + 8);
  });

  it('rolls back a green within its limit at every moment in at most its budget (80% confidence: 20%)', () => {
    // Each stage at or under the limit, varying: 5%, 3%, 5%, 4%, 5%.
    const config = analysisConfig({ interval: 1000, confidence: 0.8, thresholds: { error_rate: 0.05 } });
    const within = (s: number) => [0.05, 0.03, 0.05, 0.04, 0.05][s] as number;
    expect(rollouts(60, config, within, true)).toBeLessThanOrEqual(12); // measured: 1
  });
});
