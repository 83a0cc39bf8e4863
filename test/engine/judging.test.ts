// StageJudging for the p95 ratio to blue: the metrics keep buckets, and the judge gets the ages of green's
// running requests (from a watch that sets no timers when the plan has no latency limit).
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import { needsLatencyBuckets, StageJudging } from '../../src/engine/judging.js';
import type { EvaluateInput } from '../../src/analysis/evaluate.js';
import type { SentBefore } from '../../src/analysis/quantile.js';
import { MetricsRecorder } from '../../src/metrics/index.js';

const PLAN = `name: ratio
upstream: { api: openai, simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 10, synthetic: { prompts: [hello] } }
stages:
  - { duration: 10s, green_weight: 0.5 }
analysis:
  compare_to_blue: { max_latency_p95_ratio: 1.5 }
`;

describe('StageJudging with the p95 ratio to blue', () => {
  it('hands the judge the ages of the stage green requests still running, with no overdue timer', async () => {
    const plan = planFromYaml(PLAN);
    expect(needsLatencyBuckets(plan)).toBe(true);
    const clock = new FakeClock();
    const metrics = new MetricsRecorder({
      stages: [{ durationMs: 10_000, greenWeight: 0.5 }],
      prices: { blue: undefined, green: undefined },
      now: () => clock.now(),
    });
    metrics.startStage(0);
    const inputs: EvaluateInput[] = [];
    let overdue = 0;
    const judging = new StageJudging({
      plan,
      clock,
      metrics,
      judge: (input) => {
        inputs.push(input);
        return { checks: [] };
      },
      onOverdue: () => overdue++,
    });
    judging.greenWatch?.started(0);
    await clock.advance(1_500);
    judging.greenWatch?.started(0);
    await clock.advance(500);
    judging.verdict(0);
    expect(inputs[0]?.greenRunningAgesMs).toEqual([2_000, 500]);
    // Read once a look: the ages green's send times give (the same watch, the same requests), not a second read of it.
    expect(inputs[0]?.greenRunningAgesMs).toBe(inputs[0]?.greenSent?.runningAgesAtMostMs);
    await clock.advance(60_000);
    expect(overdue).toBe(0);
    judging.stop();
  });

  it("hands the judge blue's send times in every stage so far, the stage's own up to its cut", async () => {
    const plan = planFromYaml(
      PLAN.replace('  - { duration: 10s, green_weight: 0.5 }', '  - { duration: 10s, green_weight: 0.5 }\n  - { duration: 10s, green_weight: 0.5 }'),
    );
    const clock = new FakeClock();
    const metrics = new MetricsRecorder({
      stages: [
        { durationMs: 10_000, greenWeight: 0.5 },
        { durationMs: 10_000, greenWeight: 0.5 },
      ],
      prices: { blue: undefined, green: undefined },
      now: () => clock.now(),
      latencyBuckets: true,
    });
    metrics.startStage(0);
    const inputs: EvaluateInput[] = [];
    const judging = new StageJudging({ plan, clock, metrics, judge: (input) => (inputs.push(input), { checks: [] }), onOverdue: () => {} });
    const blue = judging.blueSends;
    blue?.started(0);
    await clock.advance(1_000);
    metrics.startStage(1);
    blue?.started(1);
    await clock.advance(1_000);
    judging.cut(1);
    blue?.started(1);
    await clock.advance(500);
    judging.verdict(1, undefined, true);
    const [stage0, stage1] = inputs[0]?.blueSent ?? [];
    expect([stage0?.requests, stage0?.runningAgesMs]).toEqual([1, [2_500]]);
    // Judged on what was sent before the cut: the second blue request, not the third.
    expect([stage1?.requests, stage1?.runningAgesMs]).toEqual([1, [1_500]]);
    judging.verdict(1);
    expect(inputs[1]?.blueSent?.[1]?.requests).toBe(2);
    judging.stop();
  });

  it("hands the judge each arm's send times from a source that reports them (live traffic), none at a stage's end judged at its cut", () => {
    const plan = planFromYaml(PLAN);
    const clock = new FakeClock();
    const metrics = new MetricsRecorder({
      stages: [{ durationMs: 10_000, greenWeight: 0.5 }],
      prices: { blue: undefined, green: undefined },
      now: () => clock.now(),
      latencyBuckets: true,
    });
    metrics.startStage(0);
    const inputs: EvaluateInput[] = [];
    const judging = new StageJudging({ plan, clock, metrics, judge: (input) => (inputs.push(input), { checks: [] }), onOverdue: () => {} });
    const reported = (requests: number): SentBefore => ({ requests, runningAgesMs: [], sentAtLeast: () => requests });
    const asked: string[] = [];
    judging.sentFrom((arm, stage) => (asked.push(`${arm} ${stage}`), reported(arm === 'blue' ? 3 : 5)));
    judging.verdict(0);
    expect([inputs[0]?.greenSent?.requests, inputs[0]?.blueSent?.[0]?.requests]).toEqual([5, 3]);
    // A proxy's ages are rounded up, no lower bounds: green's lower bound gets the engine's watch (empty on live traffic).
    expect(inputs[0]?.greenRunningAgesMs).toEqual([]);
    judging.cut(0);
    judging.verdict(0, undefined, true);
    expect([inputs[1]?.greenSent, inputs[1]?.blueSent?.[0]]).toEqual([undefined, undefined]);
    expect(asked).toEqual(['green 0', 'blue 0']);
    judging.stop();
  });

  it('keeps no buckets and no watch for a plan without the ratio or latency limits', () => {
    const plan = planFromYaml(PLAN.replace('compare_to_blue: { max_latency_p95_ratio: 1.5 }', 'thresholds: { error_rate: 0.05 }'));
    expect(needsLatencyBuckets(plan)).toBe(false);
    const clock = new FakeClock();
    const metrics = new MetricsRecorder({
      stages: [{ durationMs: 10_000, greenWeight: 0.5 }],
      prices: { blue: undefined, green: undefined },
      now: () => clock.now(),
    });
    const judging = new StageJudging({ plan, clock, metrics, judge: () => ({ checks: [] }), onOverdue: () => {} });
    expect(judging.overdue).toBeUndefined();
    expect(judging.blueSends).toBeUndefined();
  });

  it('hands the judge green in every stage so far, for error_rate since each stage began', () => {
    const plan = planFromYaml(PLAN.replace('compare_to_blue: { max_latency_p95_ratio: 1.5 }', 'thresholds: { error_rate: 0.05 }'));
    const clock = new FakeClock();
    const stages = [
      { durationMs: 10_000, greenWeight: 0.5 },
      { durationMs: 10_000, greenWeight: 1 },
    ];
    const metrics = new MetricsRecorder({ stages, prices: { blue: undefined, green: undefined }, now: () => clock.now() });
    const inputs: EvaluateInput[] = [];
    const judge = (input: EvaluateInput) => {
      inputs.push(input);
      return { checks: [] };
    };
    const judging = new StageJudging({ plan, clock, metrics, judge, onOverdue: () => {} });
    metrics.startStage(0);
    for (let i = 0; i < 3; i++) metrics.recordDispatch(0, 'green', false);
    metrics.startStage(1);
    for (let i = 0; i < 2; i++) metrics.recordDispatch(1, 'green', false);
    judging.verdict(1);
    expect(inputs[0]?.greenStages?.map((arm) => arm.inFlight)).toEqual([3, 2]);
    expect(inputs[0]?.green.inFlight).toBe(2);
  });
});
