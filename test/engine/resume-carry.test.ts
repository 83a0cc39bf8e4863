// rollout --resume: the resumed stage goes on from the dead run's saved counts, so its sequential tests continue
// (one share of the false-rollback budget per stage) instead of starting over on fresh counts with a new share.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { arrivalsEvery, SAME_REQUEST } from './fake-deps.js';
import type { ArmClient, EngineDeps } from '../../src/engine/deps.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent, RolloutSnapshot } from '../../src/engine/types.js';
import type { ArmName } from '../../src/plan/plan.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { planFromYaml, planYaml } from '../helpers/plans.js';

const PLAN = planYaml({
  name: 'resumed',
  upstream: 'simulate: { models: {} }',
  traffic: 'rate: 10',
  stages: [
    { duration: '5s', weight: 0.5 },
    { duration: '10m', weight: 1 },
  ],
  analysis: ['interval: 1s', 'min_requests: 5', 'thresholds: { error_rate: 0.1 }'],
});

/**
 * Green fails 3 requests in 10, in a fixed pattern (30% against a 10% limit); blue never fails. With `hold`, a
 * success answers only after its latency on the rollout's clock (failures at once).
 */
function arm(name: ArmName, latencyMs = 10, hold?: (ms: number) => Promise<void>): ArmClient {
  let sent = 0;
  return {
    send: async (): Promise<UpstreamResult> => {
      const ok = name === 'blue' || sent++ % 10 >= 3;
      if (ok && hold) await hold(latencyMs);
      return {
        arm: name,
        model: name,
        ok,
        failure: ok ? undefined : 'server_error',
        status: ok ? 200 : 500,
        content: 'a fine answer',
        latencyMs,
        attempts: 1,
        stream: false,
      };
    },
    listModels: async () => ({ ids: [], status: 200 }),
  };
}

function start(options: Pick<EngineDeps, 'startStage' | 'carried' | 'carriedRuns'>, latencyMs = 10, held = false) {
  const clock = new FakeClock();
  const hold = held ? (ms: number) => new Promise<void>((resolve) => clock.setTimer(resolve, ms)) : undefined;
  const states: RolloutSnapshot[] = [];
  const events: RolloutEvent[] = [];
  let turn = 0;
  const engine = new RolloutEngine({
    plan: planFromYaml(PLAN),
    clock,
    clients: { blue: arm('blue', latencyMs, hold), green: arm('green', latencyMs, hold) },
    traffic: SAME_REQUEST,
    splitter: { choose: (weight) => (weight >= 1 ? 'green' : turn++ % 2 ? 'green' : 'blue') },
    arrivals: arrivalsEvery(clock, 100),
    persistence: { appendEvent: (e) => events.push(e), writeState: (s) => void states.push(s) },
    runHook: async () => ({ ok: true, message: 'exited 0' }),
    pid: 4242,
    ...options,
  });
  const done = engine.run();
  return { clock, engine, states, events, done };
}

/** Advances a second at a time until the rollout ends; the green requests of stage 2 it took. */
async function untilRolledBack(run: ReturnType<typeof start>): Promise<{ green: number; sample: number; confidence: number }> {
  for (let second = 0; second < 600 && run.engine.snapshot().phase === 'progressing'; second++) await run.clock.advance(1_000);
  const outcome = await run.done;
  expect(outcome.phase).toBe('rolled_back');
  return {
    green: run.engine.snapshot().stages[1]!.arms.green.requests,
    sample: outcome.breach!.sample,
    confidence: outcome.breach!.evidence!.confidence,
  };
}

describe('rollout --resume continues the stage it resumes', () => {
  it("reaches the verdict a fresh test would, after only the requests it still lacked, at the same stage's confidence", async () => {
    // Uninterrupted: stage 2 judged from its first request.
    const whole = await untilRolledBack(start({ startStage: 1, carried: [] }));
    expect(whole.green).toBeGreaterThan(40);

    // A run killed when stage 2 had about two thirds of that evidence: its last state.json is what it leaves.
    const dead = start({ startStage: 1, carried: [] });
    while (dead.engine.snapshot().stages[1]!.arms.green.requests < Math.floor((whole.green * 2) / 3)) await dead.clock.advance(100);
    expect(dead.engine.snapshot().phase).toBe('progressing');
    const saved = dead.states.at(-1)!;
    const savedGreen = saved.stages[1]!.arms.green.requests;
    expect(savedGreen).toBeGreaterThan(whole.green / 2);

    const resumed = start({ startStage: 1, carried: saved.stages });
    expect(resumed.events[0]!.message).toContain(`resumed at stage 2 (its tests go on from the ${savedGreen} green and`);
    const verdict = await untilRolledBack(resumed);
    const newGreen = verdict.green - savedGreen;
    // The test went on from the saved counts: the breach was judged on them plus the new requests, and came
    // after about the requests the whole run still needed, not after a whole fresh test's worth.
    expect(verdict.sample).toBe(verdict.green);
    expect(newGreen).toBeLessThan(whole.green / 2);
    expect(Math.abs(verdict.green - whole.green)).toBeLessThanOrEqual(10);
    // One share of the budget for the stage: the interval's confidence is the stage's, not spent again.
    expect(verdict.confidence).toBe(whole.confidence);
  });

  it('carries the earlier stages too (blue so far, the stage table) and ignores unreadable saved figures', async () => {
    const dead = start({});
    await dead.clock.advance(7_000);
    expect(dead.engine.snapshot().stageIndex).toBe(1);
    const saved = dead.states.at(-1)!.stages;
    const stage1 = saved[0]!.arms;
    expect(stage1.blue.requests).toBeGreaterThan(10);

    const garbage = {
      arms: { blue: { requests: -3, failures: 'many', latency: { p95: 'x' } }, green: { requests: 1.5, latencyBuckets: { first: 0, counts: [-1] } } },
    };
    const resumed = start({ startStage: 1, carried: [saved[0]!, garbage as never] });
    await resumed.clock.advance(0);
    const stages = resumed.engine.snapshot().stages;
    expect(stages[0]).toMatchObject({
      verdict: 'passed',
      arms: { blue: { requests: stage1.blue.requests, failures: 0 }, green: { requests: stage1.green.requests } },
    });
    expect(stages[0]!.arms.green.failures).toBe(stage1.green.failures);
    expect(stages[0]!.arms.blue.latency).toMatchObject({ count: stage1.blue.latency!.count, p95: stage1.blue.latency!.p95 });
    expect(stages[1]!.arms.blue).toMatchObject({ requests: 0, failures: 0, latency: null });
    expect(stages[1]!.arms.green).toMatchObject({ requests: 0, latency: null });
    // Stage 1 keeps the checks the dead run passed it on (the report shows those); the resumed stage has none yet.
    expect(saved[0]!.checks?.map((check) => check.rule)).toEqual(['error_rate']);
    expect(stages[0]!.checks).toEqual(saved[0]!.checks);
    expect(stages[1]!.checks).toBeUndefined();
    resumed.engine.abort();
    await resumed.clock.advance(1_000);
    await resumed.done;
  });
});

describe('rollout --resume on counts no run could have written', () => {
  it("leaves that arm's counts out, saying so, and judges on: an edited state.json is not an internal error", async () => {
    const dead = start({});
    await dead.clock.advance(3_000);
    const saved = dead.states.at(-1)!.stages;
    // More failures than requests: the rate tests would have judged 50 failures in 12 requests and thrown.
    Object.assign(saved[0]!.arms.green, { requests: 12, successes: 0, failures: 50 });
    const run = start({ startStage: 0, carried: saved });
    await run.clock.advance(2_000);
    const snapshot = run.engine.snapshot();
    expect(snapshot.phase).not.toBe('failed');
    expect(run.events.filter((event) => event.type === 'warning').map((event) => event.message)).toEqual([
      "state.json's stage 1 green counts: 0 successes and 50 failures in 12 requests: left out, so its tests start again on this run's requests",
    ]);
    // Blue's counts, consistent, were carried; green's are this run's alone.
    expect(snapshot.stages[0]!.arms.blue.requests).toBeGreaterThan(saved[0]!.arms.blue.requests);
    // 2 s at 10/s, half of them green: about 10, where the 12 saved would have been added.
    expect(snapshot.stages[0]!.arms.green.requests).toBeLessThan(12);
    run.engine.abort();
    await run.clock.advance(1_000);
    expect((await run.done).phase).toBe('aborted');
  });
});

describe('rollout --resume percentiles', () => {
  /** A run killed 3 s into stage 1 with every answer taking 100 ms: its stage 1 as its last state.json saved it. */
  async function deadRun(): Promise<RolloutSnapshot['stages']> {
    const dead = start({}, 100);
    await dead.clock.advance(3_000);
    const saved = dead.states.at(-1)!.stages;
    expect(saved[0]!.arms.blue.latency).toMatchObject({ p50: 100, max: 100 });
    // Only state.json keeps the histograms: the figures the judge and the reporters read have none.
    expect(saved[0]!.arms.blue.histograms?.latency).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(dead.engine.snapshot().stages[0]!.arms.blue.histograms).toBeUndefined();
    return saved;
  }

  /** Resumed at stage 1 with answers taking 10 ms, for 2 s: stage 1's blue latency and the journal. */
  async function resumed(carried: RolloutSnapshot['stages']) {
    const run = start({ startStage: 0, carried }, 10);
    await run.clock.advance(2_000);
    const latency = run.engine.snapshot().stages[0]!.arms.blue.latency!;
    const saved = run.states.at(-1)!.stages[0]!.arms.blue;
    run.engine.abort();
    await run.clock.advance(1_000);
    await run.done;
    return { latency, saved, warnings: run.events.filter((event) => event.type === 'warning').map((event) => event.message) };
  }

  it("cover the dead run's requests: its 100 ms answers outnumber the resumed run's 10 ms ones, so p50 stays 100 ms", async () => {
    const saved = await deadRun();
    const before = saved[0]!.arms.blue.latency!.count;
    const { latency, saved: again, warnings } = await resumed(saved);
    expect(latency.count).toBeGreaterThan(before);
    expect(before).toBeGreaterThan(latency.count / 2);
    expect(latency).toMatchObject({ p50: 100, p95: 100, max: 100 });
    expect(warnings).toEqual([]);
    // Saved again whole: a second resume reads every request of both runs.
    expect(again.histograms?.latency).toBeDefined();
    expect(again.latency?.count).toBe(latency.count);
  });

  it('of an older state.json (no histograms) cover the new requests only, as before; its count, mean and max still both', async () => {
    const saved = await deadRun();
    for (const stage of saved) for (const arm of [stage.arms.blue, stage.arms.green]) delete arm.histograms;
    const { latency, saved: again, warnings } = await resumed(saved);
    expect(latency).toMatchObject({ p50: 10, max: 100 });
    expect(latency.count).toBeGreaterThan(saved[0]!.arms.blue.latency!.count);
    expect(warnings).toEqual([]);
    // Its histogram lacks the dead run's requests: not saved, so a later resume cannot mistake it for all of them.
    expect(again.histograms).toBeUndefined();
  });

  it('of a hand-edited histogram leave it out, saying so, and go on', async () => {
    const saved = await deadRun();
    saved[0]!.arms.blue.histograms = { latency: 'SGVsbG8gd29ybGQ=' };
    const { latency, warnings } = await resumed(saved);
    expect(latency).toMatchObject({ p50: 10, max: 100 });
    expect(warnings).toEqual([
      "state.json's stage 1 blue latency histogram: not a compressed HdrHistogram (V2): left out, so its percentiles cover this run's requests only",
    ]);
  });
});

describe('rollout --resume with requests in flight at the crash', () => {
  it('keeps them in the resumed stage as lost, its rate tests counting them unknown for good, and saves them again', async () => {
    // Successes answer in 2 s, failures at once: at each state write the dead run has about 2 s of successes running.
    const dead = start({ startStage: 1, carried: [] }, 2_000, true);
    await dead.clock.advance(4_000);
    const saved = dead.states.at(-1)!.stages;
    const running = saved[1]!.arms.green.inFlight;
    expect(running).toBeGreaterThan(10);
    expect(saved[1]!.arms.green.lost).toBeUndefined();

    const resumed = start({ startStage: 1, carried: saved }, 2_000, true);
    await resumed.clock.advance(0);
    expect(resumed.engine.snapshot().stages[1]!.arms.green).toMatchObject({ requests: saved[1]!.arms.green.requests, lost: running });
    await resumed.clock.advance(1_000);
    // Saved again beside this run's own running requests: a second crash carries both.
    expect(resumed.states.at(-1)!.stages[1]!.arms.green.lost).toBe(running);
    for (let second = 0; second < 600 && resumed.engine.snapshot().phase === 'progressing'; second++) await resumed.clock.advance(1_000);
    const ending = resumed.done;
    for (let second = 0; second < 10; second++) await resumed.clock.advance(1_000);
    const outcome = await ending;
    expect(outcome.phase).toBe('rolled_back');
    expect(outcome.breach!.message).toContain(`, ${running} in flight at a crash (never answered)`);
    dead.engine.abort();
    for (let second = 0; second < 5; second++) await dead.clock.advance(1_000);
    await dead.done;
  });
});

describe('rollout --resume with more requests in flight at a crash than the plan lets run', () => {
  /** The dead run's stage 1, as its last state.json saved it, with green's figures `edit`ed. */
  async function edited(edit: Partial<RolloutSnapshot['stages'][number]['arms']['green']>, carriedRuns?: number): Promise<string[]> {
    const dead = start({});
    await dead.clock.advance(3_000);
    const saved = dead.states.at(-1)!.stages;
    Object.assign(saved[0]!.arms.green, edit);
    const run = start({ startStage: 0, carried: saved, ...(carriedRuns !== undefined && { carriedRuns }) });
    await run.clock.advance(0);
    const green = run.engine.snapshot().stages[0]!.arms.green;
    // Left out: a huge count of outcomes unknown for good would keep the stage's tests from ever deciding.
    expect(green.lost).toBeUndefined();
    expect(green.requests).toBe(0);
    run.engine.abort();
    await run.clock.advance(1_000);
    expect((await run.done).phase).toBe('aborted');
    return run.events.filter((event) => event.type === 'warning').map((event) => event.message);
  }

  it("leaves that arm's counts out, saying so: max_in_flight (200) bounds the requests running at one crash", async () => {
    expect(await edited({ inFlight: 1_000_000 })).toEqual([
      "state.json's stage 1 green counts: 1000000 requests in flight at the crash, more than max_in_flight (200): left out, so its tests start again on this run's requests",
    ]);
  });

  it('and the requests lost at the crashes before it, max_in_flight each', async () => {
    expect(await edited({ inFlight: 0, lost: 401, lostCrashes: 2 })).toEqual([
      "state.json's stage 1 green counts: 401 requests lost at 2 crashes, more than max_in_flight (200) a crash: left out, so its tests start again on this run's requests",
    ]);
    // A state.json from before lostCrashes: its lost came from one crash.
    expect(await edited({ inFlight: 0, lost: 201 })).toEqual([
      "state.json's stage 1 green counts: 201 requests lost at 1 crash, more than max_in_flight (200) a crash: left out, so its tests start again on this run's requests",
    ]);
  });

  // lows30 (lost29): a forged huge `lost` with as huge a `lostCrashes` passed the bound above. The crashes are bounded
  // by the runs the journal shows (its rollout_started lines, which every run writes before its first state.json).
  it('and the crashes they were lost at, by the runs the journal shows', async () => {
    expect(await edited({ inFlight: 0, lost: 200_000_000, lostCrashes: 1_000_000 }, 3)).toEqual([
      "state.json's stage 1 green counts: requests lost at 1000000 crashes, but the journal shows 3 runs of this rollout: left out, so its tests start again on this run's requests",
    ]);
    expect(await edited({ inFlight: 0, lost: 400, lostCrashes: 2 }, 1)).toEqual([
      "state.json's stage 1 green counts: requests lost at 2 crashes, but the journal shows 1 run of this rollout: left out, so its tests start again on this run's requests",
    ]);
  });

  it('carries what two crashes could have had running, and counts the crashes for the next', async () => {
    const dead = start({});
    await dead.clock.advance(3_000);
    const saved = dead.states.at(-1)!.stages;
    Object.assign(saved[0]!.arms.green, { inFlight: 150, lost: 200, lostCrashes: 1 });
    // The journal shows the first run and the one resume that crashed with 150 running.
    const run = start({ startStage: 0, carried: saved, carriedRuns: 2 });
    await run.clock.advance(0);
    expect(run.engine.snapshot().stages[0]!.arms.green).toMatchObject({ lost: 350, lostCrashes: 2 });
    expect(run.events.filter((event) => event.type === 'warning')).toEqual([]);
    run.engine.abort();
    await run.clock.advance(1_000);
    await run.done;
  });
});
