// What the comparisons with blue judge green against: the stage's own blue (served at the same moments) while
// the stage sends blue traffic, blue over the rollout so far only at 100% green. Seeded simulations of a shared
// upstream: a burst of failures that hits both arms alike must not read as green failing more than blue.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/index.js';
import { createRandom } from '../../src/core/random.js';
import { BucketCounter, emptyArmStats, type ArmStats } from '../../src/metrics/index.js';
import { sampleLognormal } from '../../src/sim/lognormal.js';
import type { AnalysisConfig } from '../../src/plan/schema.js';

const WEIGHTS = [0.1, 0.25, 0.5, 0.75, 1];
const STAGE_MS = 60_000;
const RATE = 20;

/** A plan with only a latency rule: the built-in guard judges errors. */
const guardPlan: AnalysisConfig = {
  interval: 1000,
  confidence: 0.99,
  min_requests: 20,
  thresholds: { latency_p95: 3000 },
  on_inconclusive: 'pass',
  max_extensions: 2,
};
const comparePlan: AnalysisConfig = { ...guardPlan, thresholds: {}, compare_to_blue: { max_error_rate_increase: 0.02 } };

type ErrorRate = (arm: 'blue' | 'green', atMs: number) => number;

/** 1% failures on both arms, and 25% on both for 20 s in stage 4 (an upstream both models share, hiccuping). */
const sharedBurst: ErrorRate = (_arm, at) => (at >= 3 * STAGE_MS + 10_000 && at < 3 * STAGE_MS + 30_000 ? 0.25 : 0.01);

/**
 * One rollout judged every second and at each stage end, as the engine does; the stage (1-based) whose
 * verdict rolled it back, or undefined when promoted.
 */
function rollout(seed: number, config: AnalysisConfig, errorRate: ErrorRate): { stage: number; rule: string } | undefined {
  const rng = createRandom(seed);
  const blueSoFar: ArmStats = emptyArmStats();
  let t = 0;
  for (let s = 0; s < WEIGHTS.length; s++) {
    const arms = { blue: emptyArmStats(), green: emptyArmStats() };
    const end = (s + 1) * STAGE_MS;
    let tick = t + config.interval;
    for (;;) {
      const arrival = t - (Math.log(1 - rng()) / RATE) * 1000;
      const at = Math.min(arrival, tick, end);
      if (at !== arrival) {
        const blueBaseline = { ...arms.blue, requests: arms.blue.requests + blueSoFar.requests, failures: arms.blue.failures + blueSoFar.failures };
        const input = { stageIndex: s, stageCount: WEIGHTS.length, green: arms.green, blue: arms.blue, blueBaseline, greenWeight: WEIGHTS[s], config };
        const breach = evaluate(input).breach;
        if (breach) return { stage: s + 1, rule: breach.rule };
        if (at === end) break;
        t = at;
        tick += config.interval;
        continue;
      }
      t = arrival;
      const name = rng() < (WEIGHTS[s] as number) ? 'green' : 'blue';
      const arm = arms[name];
      arm.requests++;
      if (rng() < errorRate(name, t)) arm.failures++;
      else arm.successes++;
    }
    t = end;
    blueSoFar.requests += arms.blue.requests;
    blueSoFar.failures += arms.blue.failures;
  }
  return undefined;
}

function rollouts(count: number, config: AnalysisConfig, errorRate: ErrorRate) {
  return Array.from({ length: count }, (_, i) => rollout(1000 + i, config, errorRate));
}

describe('comparisons judge green against the blue of the same moments', () => {
  it('does not roll back a healthy green for an upstream burst that hits both arms (the guard and max_error_rate_increase)', () => {
    // Against blue over the rollout so far (mostly the calm stages 1-3) every one of these rolled back in stage 4.
    for (const config of [guardPlan, comparePlan]) expect(rollouts(40, config, sharedBurst).filter(Boolean)).toEqual([]);
  });

  it('still catches a green failing 20% against blue 1%, in the early stages', () => {
    const caught = rollouts(40, guardPlan, (arm) => (arm === 'green' ? 0.2 : 0.01));
    expect(caught.every((r) => r !== undefined && r.stage <= 2 && r.rule === 'guard.green_fails_more_than_blue')).toBe(true);
  });

  it('judges a stage at 100% green against blue over the rollout so far', () => {
    // Green fails 20% only from stage 5 on, where the stage has no blue: the earlier stages' blue is the reference.
    const caught = rollouts(20, guardPlan, (arm, at) => (arm === 'green' && at >= 4 * STAGE_MS ? 0.2 : 0.01));
    expect(caught.every((r) => r?.stage === 5)).toBe(true);
  });

  it('judges quality failures and the p95 ratio against the same reference', () => {
    const latencies = (seed: number, n: number, p50: number, p95: number) => {
      const rng = createRandom(seed);
      const counter = new BucketCounter();
      for (let i = 0; i < n; i++) counter.record(sampleLognormal(rng, p50, p95));
      return counter.snapshot();
    };
    // An upstream slow and short-answering for both arms in this stage; blue's earlier stages were quick and full.
    const slowStage = (seed: number) => ({
      ...emptyArmStats(),
      requests: 1500,
      successes: 1500,
      qualityFailures: 150,
      latencyBuckets: latencies(seed, 1500, 900, 2700),
    });
    const earlier = { ...emptyArmStats(), requests: 6000, successes: 6000, qualityFailures: 60, latencyBuckets: latencies(3, 6000, 300, 900) };
    const config: AnalysisConfig = {
      ...guardPlan,
      thresholds: {},
      compare_to_blue: { max_error_rate_increase: 0.02, max_quality_fail_rate_increase: 0.02, max_latency_p95_ratio: 1.5 },
    };
    const judge = (greenWeight: number) =>
      evaluate({ stageIndex: 2, stageCount: 5, green: slowStage(1), blue: slowStage(2), blueBaseline: earlier, greenWeight, config }).checks;
    const statuses = (checks: ReturnType<typeof judge>) => Object.fromEntries(checks.map((c) => [c.rule, c.status]));
    expect(statuses(judge(0.5))).toMatchObject({
      'compare_to_blue.max_quality_fail_rate_increase': expect.not.stringMatching('breach'),
      'compare_to_blue.max_latency_p95_ratio': expect.not.stringMatching('breach'),
    });
    expect(statuses(judge(1))).toMatchObject({ 'compare_to_blue.max_quality_fail_rate_increase': 'breach', 'compare_to_blue.max_latency_p95_ratio': 'breach' });
  });

  it('chooses the reference from the stage weight alone, never from the figures', () => {
    const green = { ...emptyArmStats(), requests: 100, failures: 30, successes: 70 };
    const quiet = { ...emptyArmStats(), requests: 100, failures: 1, successes: 99 };
    const noisy = { ...emptyArmStats(), requests: 100, failures: 30, successes: 70 };
    const judge = (greenWeight: number | undefined) =>
      evaluate({ stageIndex: 0, stageCount: 1, green, blue: noisy, blueBaseline: quiet, greenWeight, config: guardPlan });
    // Below 100% (or no weight given): the stage's blue fails as often as green, nothing is shown.
    expect(judge(0.5).breach).toBeUndefined();
    expect(judge(undefined).breach).toBeUndefined();
    // At 100%: the rollout's blue so far.
    expect(judge(1).breach?.rule).toBe('guard.green_fails_more_than_blue');
  });
});
