// The engine hands the p95 ratio blue's send times that cover blue's whole sample at every judgement (the stage's
// own blue, the stage's end cut at its time-up, blue over the rollout so far at 100% green), so blue's upper bound is
// judged sent-before (src/analysis/quantile.ts) and not on the conservative count alone, and its lower bound counts
// blue's running requests at their ages. Green's send times likewise cover green's sample in each stage (the ratio's
// ok side: green's upper bound judged sent-before too).
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/evaluate.js';
import { blueReference, blueSentReference } from '../../src/analysis/reference.js';
import { unanswered } from '../../src/analysis/rate-rules.js';
import { bucketTotal } from '../../src/metrics/buckets.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml, planYaml } from '../helpers/plans.js';
import { arrivalsEvery, scriptedArm } from './fake-deps.js';
import { recordedEngine } from './two-stages.js';

const PLAN = planYaml({
  name: 'ratio-sent-before',
  upstream: 'simulate: { models: {} }, timeout: { request: 5s }, retries: { max: 0 }',
  traffic: 'rate: 33',
  stages: [
    { duration: '10s', weight: 0.5 },
    { duration: '10s', weight: 1 },
  ],
  analysis: ['interval: 1s', 'min_requests: 20', 'compare_to_blue: { max_latency_p95_ratio: 1.5 }'],
});

describe('the engine and the p95 ratio sent-before', () => {
  it("gives blue's send times for the whole of blue's sample at every judgement", async () => {
    const plan = planFromYaml(PLAN);
    const clock = new FakeClock();
    const start = clock.now();
    // Blue's answers take 200-1,100 ms (several running at each look), green's 100 ms.
    let turn = 0;
    const covered: { stage: number; requests: number; running: number }[] = [];
    const { engine } = recordedEngine({
      plan,
      clock,
      clients: {
        blue: scriptedArm('blue', clock, start, () => ({ afterMs: 200 + 100 * (turn++ % 10), ok: true })),
        green: scriptedArm('green', clock, start, () => ({ afterMs: 100, ok: true })),
      },
      arrivals: arrivalsEvery(clock, 30),
      judge: (input) => {
        const reference = blueReference(input);
        const sent = blueSentReference(input);
        const sample = bucketTotal(reference.latencyBuckets) + unanswered(reference);
        expect(sent?.requests, `stage ${input.stageIndex}`).toBe(sample);
        expect(sent?.runningAgesMs.length).toBe(unanswered(reference));
        // Exact ages, for blue's lower bound too (session 34): every running request of the sample, at its age.
        expect(sent?.runningAgesAtMostMs).toEqual(sent?.runningAgesMs);
        covered.push({ stage: input.stageIndex, requests: sample, running: unanswered(reference) });
        return evaluate(input);
      },
    });
    const done = engine.run();
    await clock.advance(30_000);
    expect(await done).toMatchObject({ phase: 'promoted' });
    // Both stages judged, blue's requests running at some looks; the 100% stage on the first stage's blue.
    expect(covered.some((c) => c.stage === 0 && c.running > 0)).toBe(true);
    expect(covered.filter((c) => c.stage === 1).every((c) => c.requests >= 150)).toBe(true);
  });

  it("gives green's send times for the whole of green's sample in the stage at every judgement, its end's cut too", async () => {
    const plan = planFromYaml(PLAN);
    const clock = new FakeClock();
    const start = clock.now();
    // Both arms' answers take 200-1,100 ms (green = blue): several of green's running at each look and stage end.
    const turns = { blue: 0, green: 0 };
    const covered: { stage: number; requests: number; running: number }[] = [];
    const { engine } = recordedEngine({
      plan,
      clock,
      clients: {
        blue: scriptedArm('blue', clock, start, () => ({ afterMs: 200 + 100 * (turns.blue++ % 10), ok: true })),
        green: scriptedArm('green', clock, start, () => ({ afterMs: 200 + 100 * (turns.green++ % 10), ok: true })),
      },
      arrivals: arrivalsEvery(clock, 30),
      judge: (input) => {
        const sample = bucketTotal(input.green.latencyBuckets) + unanswered(input.green);
        expect(input.greenSent?.requests, `stage ${input.stageIndex}`).toBe(sample);
        expect(input.greenSent?.runningAgesMs).toEqual(input.greenRunningAgesMs);
        expect(input.greenSent?.runningAgesMs.length).toBe(unanswered(input.green));
        covered.push({ stage: input.stageIndex, requests: sample, running: unanswered(input.green) });
        return evaluate(input);
      },
    });
    const done = engine.run();
    await clock.advance(30_000);
    expect(await done).toMatchObject({ phase: 'promoted' });
    expect(covered.some((c) => c.stage === 0 && c.running > 0)).toBe(true);
    expect(covered.some((c) => c.stage === 1 && c.running > 0)).toBe(true);
  });
});
