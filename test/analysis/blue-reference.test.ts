// What the comparisons with blue judge green against: the stage's own blue (served at the same moments) while
// the plan sends it enough, else blue over the rollout so far (src/analysis/reference.ts). Seeded simulations of
// a shared upstream: a burst of failures that hits both arms alike must not read as green failing more.
import { describe, expect, it } from 'vitest';
import { blueReference, evaluate, plannedBlueRequests, SMALL_BLUE_REQUESTS } from '../../src/analysis/index.js';
import { createRandom } from '../../src/core/random.js';
import { BucketCounter, emptyArmStats, type ArmStats } from '../../src/metrics/index.js';
import { analysisConfig, planFromYaml } from '../helpers/plans.js';
import { seededRollout, type Rollback } from '../helpers/seeded-rollout.js';
import { sampleLognormal } from '../../src/sim/lognormal.js';
import type { AnalysisConfig } from '../../src/plan/schema.js';

const WEIGHTS = [0.1, 0.25, 0.5, 0.75, 1];
const STAGE_MS = 60_000;
const RATE = 20;

/** A plan with only a latency rule: the built-in guard judges errors. */
const guardPlan = analysisConfig({ interval: 1000, thresholds: { latency_p95: 3000 } });
const comparePlan: AnalysisConfig = { ...guardPlan, thresholds: {}, compare_to_blue: { max_error_rate_increase: 0.02 } };

type ErrorRate = (arm: 'blue' | 'green', atMs: number) => number;

/** 1% failures on both arms, and 25% on both for 20 s in stage 4 (an upstream both models share, hiccuping). */
const sharedBurst: ErrorRate = (_arm, at) => (at >= 3 * STAGE_MS + 10_000 && at < 3 * STAGE_MS + 30_000 ? 0.25 : 0.01);

/**
 * One rollout judged every second and at each stage end, as the engine does; the stage (1-based) whose
 * verdict rolled it back, or undefined when promoted.
 */
function rollout(seed: number, config: AnalysisConfig, errorRate: ErrorRate, weights = WEIGHTS): Rollback | undefined {
  const blueStages: ArmStats[] = [];
  const plannedBlue = weights.map((w) => (RATE * STAGE_MS * (1 - w)) / 1000);
  const shape = { weights, stageMs: STAGE_MS, rate: RATE, intervalMs: config.interval };
  return seededRollout(seed, shape, (s) => {
    const arms = { blue: emptyArmStats(), green: emptyArmStats() };
    blueStages.push(arms.blue);
    return {
      judge: () =>
        evaluate({ stageIndex: s, stageCount: weights.length, green: arms.green, blue: arms.blue, blueStages, greenWeight: weights[s], plannedBlue, config })
          .breach?.rule,
      arrive: (at, rng) => {
        const name = rng() < (weights[s] as number) ? 'green' : 'blue';
        const arm = arms[name];
        arm.requests++;
        if (rng() < errorRate(name, at)) arm.failures++;
        else arm.successes++;
      },
    };
  });
}

function rollouts(count: number, config: AnalysisConfig, errorRate: ErrorRate, weights = WEIGHTS) {
  return Array.from({ length: count }, (_, i) => rollout(1000 + i, config, errorRate, weights));
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
    // The stage's own blue (slow, like green) apart from the stages before it (quick): one set of figures for both weights.
    const judge = (greenWeight: number) =>
      evaluate({
        stageIndex: 2,
        stageCount: 5,
        green: slowStage(1),
        blue: slowStage(2),
        blueStages: [earlier, emptyArmStats()],
        greenWeight,
        config,
      }).checks;
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
      evaluate({ stageIndex: 1, stageCount: 2, green, blue: noisy, blueStages: [quiet, emptyArmStats()], greenWeight, config: guardPlan });
    // Below 100% (or no weight given): the stage's blue fails as often as green, nothing is shown.
    expect(judge(0.5).breach).toBeUndefined();
    expect(judge(undefined).breach).toBeUndefined();
    // At 100%: the rollout's blue so far.
    expect(judge(1).breach?.rule).toBe('guard.green_fails_more_than_blue');
  });

  it('judges a stage planning fewer than 100 blue requests against blue over the rollout so far', () => {
    const stageBlue = (requests: number, failures: number): ArmStats => ({ ...emptyArmStats(), requests, failures, successes: requests - failures });
    const blueStages = [stageBlue(1000, 10), stageBlue(600, 6), stageBlue(60, 1), stageBlue(0, 0)];
    const plannedBlue = [1080, 600, 60, 0];
    const ref = (stageIndex: number, greenWeight: number) =>
      blueReference({ stageIndex, blue: blueStages[stageIndex] as ArmStats, blueStages: blueStages.slice(0, stageIndex + 1), greenWeight, plannedBlue });
    expect(ref(1, 0.5)).toBe(blueStages[1]);
    // 95% green at 20 req/s for 60 s plans 60 blue requests: every stage so far.
    expect(ref(2, 0.95)).toMatchObject({ requests: 1660, failures: 17 });
    expect(ref(3, 1)).toMatchObject({ requests: 1660, failures: 17 });
    // Without planned counts (a plan driving proxies): the stage's own below 100%, every stage so far at 100%.
    const live = (stageIndex: number, greenWeight: number) =>
      blueReference({ stageIndex, blue: blueStages[stageIndex] as ArmStats, blueStages: blueStages.slice(0, stageIndex + 1), greenWeight });
    expect(live(2, 0.95)).toBe(blueStages[2]);
    expect(live(3, 1)).toMatchObject({ requests: 1660, failures: 17 });
    expect(SMALL_BLUE_REQUESTS).toBe(100);
  });

  it('plans blue requests from the traffic rate, stage durations and weights; none for a plan driving proxies', () => {
    const yaml = (proxy: string) => `name: p
upstream: { api: openai, simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 20, synthetic: { prompts: [hello] } }
stages:
  - { duration: 60s, green_weight: 0.1 }
  - { duration: 30s, green_weight: 0.95 }
  - { duration: 60s, green_weight: 1 }
${proxy}`;
    const planned = plannedBlueRequests(planFromYaml(yaml(''))) ?? [];
    expect(planned.map((n) => Math.round(n))).toEqual([1080, 30, 0]);
    expect(plannedBlueRequests(planFromYaml(yaml('proxy: { admin: { token_env: ADMIN_TOKEN } }')))).toBeUndefined();
  });

  it('still rolls back some healthy greens at 100% when the upstream drifts from 1% to 7% failures on both arms (a known limit)', () => {
    // Blue over the rollout so far (mostly at 1-4%) against green at 6-7%: the assumption that blue has not moved
    // fails. Judged against the stage before only, none of these rolled back, at a large cost in power elsewhere
    // (docs/benchmarks-history.md, session 11); documented in docs/plan.md instead.
    const drift: ErrorRate = (_arm, at) => 0.01 + (0.06 * at) / (5 * STAGE_MS);
    const caught = rollouts(40, guardPlan, drift).filter((r) => r !== undefined);
    expect(caught.length).toBeGreaterThan(0);
    expect(caught.every((r) => r.stage === 5)).toBe(true);
  });

  it('catches a green failing 6% against 1% first at 95% green, 20 req/s, against blue over the rollout so far', () => {
    // review10's plan: 10%, 50%, 95% green. Against its own 60 planned blue requests the guard caught none;
    // against blue over the rollout so far nearly all.
    const weights = [0.1, 0.5, 0.95];
    const late: ErrorRate = (arm, at) => (arm === 'green' && at >= 2 * STAGE_MS ? 0.06 : 0.01);
    const caught = rollouts(40, guardPlan, late, weights);
    expect(caught.filter((r) => r?.stage === 3).length).toBeGreaterThanOrEqual(36);
  });
});
