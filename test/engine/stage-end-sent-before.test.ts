// A stage's end is judged on the requests sent before its time was up (MetricsRecorder.cut, StageJudging.cut): those
// sent while it waits for its requests in flight are still running when it is judged, and counted there as outcomes
// unknown they left a healthy green undecided, so `on_inconclusive: extend` extended a stage its own requests decided.
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml, planYaml } from '../helpers/plans.js';
import { arrivalsEvery, scriptedArm, type Answer } from './fake-deps.js';
import { recordedEngine } from './two-stages.js';

const STAGE_MS = 20_000;
const ARRIVAL_MS = 30;
/** Green's successes take 4 s, its failures (0.5%, seeded) 100 ms: the stage's end waits up to 4 s for them. */
const SLOW_MS = 4_000;

const PLAN = planYaml({
  name: 'sent-before-time-up',
  upstream: 'simulate: { models: {} }, timeout: { request: 5s }, retries: { max: 0 }',
  traffic: 'rate: 33',
  stages: [
    { duration: '20s', weight: 0.5 },
    { duration: '20s', weight: 1 },
  ],
  analysis: ['interval: 1s', 'min_requests: 20', 'on_inconclusive: extend', 'max_extensions: 2', 'thresholds: { error_rate: 0.05 }'],
});

function setup(seed: number, failsFrom = Infinity) {
  const plan = planFromYaml(PLAN);
  const clock = new FakeClock();
  const start = clock.now();
  const random = createRandom(seed);
  const green = (sentAt: number): Answer => (sentAt >= failsFrom || random() < 0.005 ? { afterMs: 100, ok: false } : { afterMs: SLOW_MS, ok: true });
  const { engine, events, states } = recordedEngine({
    plan,
    clock,
    clients: { blue: scriptedArm('blue', clock, start, () => ({ afterMs: 10, ok: true })), green: scriptedArm('green', clock, start, green) },
    arrivals: arrivalsEvery(clock, ARRIVAL_MS),
  });
  return { clock, engine, events, states, start };
}

describe("a stage's end judged on the requests sent before its time was up", () => {
  it('passes a healthy green its own requests decide, where the requests sent during the wait left it undecided', async () => {
    const { clock, engine, events, states, start } = setup(28);
    const done = engine.run();
    await clock.advance(STAGE_MS + SLOW_MS);
    // Stage 1 passed once its requests answered, without an extension.
    expect(events.some((e) => e.type === 'stage_extended')).toBe(false);
    const passed = events.find((e) => e.type === 'stage_passed');
    // Once the last green request of its time (sent at 19,980 ms) answered.
    expect(passed?.at).toBe(start + 19_980 + SLOW_MS);
    // Judged on the 333 green requests sent in its 20 s (arrivals every 30 ms, every other one to green, the first
    // to blue), every one answered: none of the 66 sent during the wait, still running then.
    const checks = states.find((s) => s.stages[0]?.verdict === 'passed')?.stages[0]?.checks;
    const rule = checks?.find((c) => c.rule === 'error_rate');
    expect(rule).toMatchObject({ status: 'ok', sample: 333 });
    expect(rule?.evidence?.upper).toBeLessThan(0.05);
    // The stage's figures hold the requests sent during the wait too.
    const figures = states.at(-1)!.stages[0]!.arms.green;
    expect(figures.requests + figures.inFlight).toBeGreaterThan(333);
    await clock.advance(STAGE_MS + SLOW_MS + 5_000);
    expect(await done).toMatchObject({ phase: 'promoted' });
  });

  it('still rolls back on failures of the requests sent during the wait', async () => {
    // Green fails every request sent from the stage's time-up on, at once: judged on all its requests so far.
    const { clock, engine, events } = setup(28, STAGE_MS);
    const done = engine.run();
    await clock.advance(STAGE_MS + SLOW_MS);
    expect(await done).toMatchObject({ phase: 'rolled_back', breach: { rule: 'error_rate' } });
    expect(events.some((e) => e.type === 'stage_passed')).toBe(false);
    expect(events.find((e) => e.type === 'breach')?.message).toMatch(/ in stage 1;/);
  });
});
