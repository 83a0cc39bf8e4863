// A stage's end waits for the generated requests sent in it (up to a request's longest life: no retries here, so
// the request timeout) before it is judged: a
// failure answered just after the stage's time is up counts in that stage, a green that hangs holds it no longer
// than the timeout (and, never judged, does not promote), an operator's pause still holds it, and an ending cuts
// the wait short.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { arrivalsEvery, scriptedArm, type Answer } from './fake-deps.js';
import { recordedEngine, TWO_STAGE_MS, twoStagePlan } from './two-stages.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { buildReport } from '../../src/report/outcome/index.js';
import { planFromYaml } from '../helpers/plans.js';

const STAGE_MS = TWO_STAGE_MS;
const TIMEOUT_MS = 5_000;

const PLAN = twoStagePlan('in-flight', ['interval: 1s', 'min_requests: 5', 'thresholds: { error_rate: 0.2 }'], {
  upstream: ', retries: { max: 0 }',
});

const QUICK: Answer = { afterMs: 10, ok: true };

function setup(green: (sentAt: number) => Answer, arrivalMs = 100, blue: (sentAt: number) => Answer = () => QUICK, yaml = PLAN) {
  const plan = planFromYaml(yaml);
  const clock = new FakeClock();
  const start = clock.now();
  const { engine, events, states } = recordedEngine({
    plan,
    clock,
    clients: { blue: scriptedArm('blue', clock, start, blue), green: scriptedArm('green', clock, start, green) },
    arrivals: arrivalsEvery(clock, arrivalMs),
  });
  /** Fake ms since the rollout started at which the first event of `type` came. */
  const at = (type: RolloutEvent['type']) => {
    const event = events.find((e) => e.type === type);
    return event ? event.at - start : undefined;
  };
  return { clock, engine, events, states, plan, at };
}

describe("a stage's end and its requests in flight", () => {
  it("judges a failure answered after the stage's time is up, within the request timeout, in that stage", async () => {
    // Stage 1's green requests (50 of them) all fail, 3 s after they were sent: none has answered when its 2 s are up.
    const { clock, engine, events, states, at } = setup((sentAt) => (sentAt < STAGE_MS ? { afterMs: 3_000, ok: false } : QUICK), 20);
    const done = engine.run();
    await clock.advance(STAGE_MS + 3_000);
    await clock.advance(TIMEOUT_MS);
    const outcome = await done;
    expect(outcome).toMatchObject({ phase: 'rolled_back', breach: { rule: 'error_rate' } });
    expect(events.some((e) => e.type === 'stage_passed')).toBe(false);
    const breach = events.find((e) => e.type === 'breach')!;
    expect(breach.stage).toBe(0);
    expect(breach.message).toContain('in stage 1');
    // Judged once the answers came: after the stage's time was up, before the last of them answered.
    expect(at('breach')).toBeGreaterThan(STAGE_MS);
    expect(at('breach')).toBeLessThanOrEqual(STAGE_MS + 3_000);
    const final = states.at(-1)!;
    expect(final.stages.map((s) => s.verdict)).toEqual(['failed', 'skipped']);
    expect(final.stages[0]!.checks?.find((c) => c.rule === 'error_rate')?.status).toBe('breach');
  });

  it('holds a stage whose green hangs no longer than the request timeout, and says what was left out', async () => {
    const { clock, engine, events, at } = setup(() => 'hang');
    const done = engine.run();
    await clock.advance(STAGE_MS + TIMEOUT_MS - 1);
    expect(events.some((e) => e.type === 'stage_passed')).toBe(false);
    expect(engine.snapshot().stageIndex).toBe(0);
    await clock.advance(1);
    expect(at('stage_passed')).toBe(STAGE_MS + TIMEOUT_MS);
    expect(engine.snapshot().stageIndex).toBe(1);
    const warning = events.find((e) => e.type === 'warning' && e.message.startsWith('stage 1 is judged without'));
    // Arrivals at 100, 200, ... 1,900 ms, every other one to green, the first to blue.
    expect(warning?.message).toBe(
      "stage 1 is judged without 9 requests sent in it and still running after the longest time a request can take with its retries (5s): each is judged with stage 1 when it answers, at the rollout's next judgement",
    );
    // Stage 2 the same; green never answered, so nothing was judged in any stage: the rollout rolls back at the
    // last stage's end rather than promote (analysis.on_unjudged), and the ending's drain cancels what still hangs.
    await clock.advance(STAGE_MS + TIMEOUT_MS + TIMEOUT_MS);
    expect(await done).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'nothing_judged' } });
    expect(events.filter((e) => e.type === 'stage_passed').map((e) => e.at - events[0]!.at)).toEqual([STAGE_MS + TIMEOUT_MS]);
    expect(events.find((e) => e.type === 'breach')?.at).toBe(events[0]!.at + 2 * (STAGE_MS + TIMEOUT_MS));
  });

  // Found in session 13: the wait (up to a request's longest life, minutes with retries) showed nothing, the stage at
  // "0s left" as if hung, until a timed-out wait's warning. The snapshot says what it waits for, counting down.
  it('says in the snapshot (and state.json) what the stage end waits for while it waits, and nothing before or after', async () => {
    const { clock, engine, states } = setup(() => 'hang');
    const done = engine.run();
    await clock.advance(STAGE_MS - 1);
    expect(engine.snapshot().stageEndWait).toBeUndefined();
    await clock.advance(1_001);
    // 9 of stage 1's green requests hang (see above); arrivals during the wait are not waited for.
    expect(engine.snapshot().stageEndWait).toEqual({ stage: 0, requests: 9, upToMs: TIMEOUT_MS - 1_000 });
    await clock.advance(2_000);
    expect(engine.snapshot().stageEndWait).toEqual({ stage: 0, requests: 9, upToMs: TIMEOUT_MS - 3_000 });
    expect(states.at(-1)?.stageEndWait).toMatchObject({ stage: 0, requests: 9 });
    await clock.advance(TIMEOUT_MS - 3_000);
    expect(engine.snapshot().stageIndex).toBe(1);
    expect(engine.snapshot().stageEndWait).toBeUndefined();
    await clock.advance(STAGE_MS + 2 * TIMEOUT_MS);
    // Every green request hangs: green is never judged healthy, so the rollout ends on blue (analysis.on_unjudged).
    expect(await done).toMatchObject({ phase: 'rolled_back' });
    expect(engine.snapshot().stageEndWait).toBeUndefined();
  });

  it('counts down the requests still running as they answer', async () => {
    // Stage 1's green requests (sent at 200, 400, ... 1,800 ms) answer at 3,000 ms + (2,000 - sent): the last sent first.
    const { clock, engine } = setup((sentAt) => (sentAt < STAGE_MS ? { afterMs: 1_000 + 2 * (STAGE_MS - sentAt), ok: true } : QUICK));
    const done = engine.run();
    await clock.advance(STAGE_MS + 500);
    expect(engine.snapshot().stageEndWait).toEqual({ stage: 0, requests: 9, upToMs: TIMEOUT_MS - 500 });
    // By 3,500 ms those sent at 1,800 and 1,600 ms answered.
    await clock.advance(1_000);
    expect(engine.snapshot().stageEndWait).toEqual({ stage: 0, requests: 7, upToMs: TIMEOUT_MS - 1_500 });
    await clock.advance(2 * STAGE_MS + 2 * TIMEOUT_MS);
    expect(await done).toMatchObject({ phase: 'promoted' });
  });

  it('passes at once when nothing sent in the stage is still in flight', async () => {
    const { clock, engine, at } = setup(() => QUICK);
    const done = engine.run();
    await clock.advance(2 * STAGE_MS);
    expect(await done).toMatchObject({ phase: 'promoted' });
    expect(at('stage_passed')).toBe(STAGE_MS);
  });

  it('holds the stage when an operator pauses during the wait, and judges it after the resume', async () => {
    // Green answers well, 3 s late: stage 1's end waits for it.
    const { clock, engine, events, at } = setup(() => ({ afterMs: 3_000, ok: true }));
    const done = engine.run();
    await clock.advance(STAGE_MS + 500);
    engine.pause();
    await clock.advance(10_000);
    expect(engine.snapshot()).toMatchObject({ phase: 'paused', stageIndex: 0 });
    expect(events.some((e) => e.type === 'stage_passed')).toBe(false);
    engine.resume();
    const resumedAt = clock.now() - events[0]!.at;
    // The arrivals went on while paused: the stage's end waits for those still in flight (up to 3 s) again.
    await clock.advance(3_000);
    expect(at('stage_passed')).toBeGreaterThan(resumedAt);
    expect(at('stage_passed')).toBeLessThanOrEqual(resumedAt + 3_000);
    expect(engine.snapshot().stageIndex).toBe(1);
    await clock.advance(STAGE_MS + 3_000 + 3_000);
    expect(await done).toMatchObject({ phase: 'promoted' });
  });

  it('passes a stage once when an operator pauses and resumes during the wait', async () => {
    const { clock, engine, events } = setup(() => ({ afterMs: 3_000, ok: true }));
    const done = engine.run();
    await clock.advance(STAGE_MS + 500);
    engine.pause();
    await clock.advance(500);
    engine.resume();
    await clock.advance(2 * (STAGE_MS + 3_000) + 3_000);
    expect(await done).toMatchObject({ phase: 'promoted' });
    const started = events.filter((e) => e.type === 'stage_started');
    const passed = events.filter((e) => e.type === 'stage_passed');
    expect(passed.map((e) => e.stage)).toEqual([0, 1]);
    expect(started.map((e) => e.stage)).toEqual([0, 1]);
    // The resume's run of the spent stage clock did not start a second wait that, ending later, passed stage 2
    // before its time.
    expect(passed[1]!.at - started[1]!.at).toBeGreaterThanOrEqual(STAGE_MS);
  });

  it('ends the wait at once on an abort: the stage is not judged, and nothing is left waiting', async () => {
    const { clock, engine, events, states } = setup(() => 'hang');
    const done = engine.run();
    await clock.advance(STAGE_MS + 500);
    engine.abort('alice');
    // The ending drains what hangs; a second signal cancels it at once (no clock moves from here on).
    expect(engine.interrupt('SIGINT')).toMatchObject({ phase: 'aborted' });
    expect(await done).toMatchObject({ phase: 'aborted' });
    expect(events.some((e) => e.type === 'stage_passed' || e.type === 'breach')).toBe(false);
    expect(events.some((e) => e.type === 'warning' && e.message.startsWith('stage 1 is judged without'))).toBe(false);
    expect(states.at(-1)!.stages.map((s) => s.verdict)).toEqual(['aborted', 'skipped']);
    // The wait's timer went with it: nothing of the rollout is left on the clock.
    expect(clock.pendingTimers()).toBe(0);
  });

  it('ends the rollout on blue, exit 1, when a result the wait holds cannot be recorded: the stage is not judged without it', async () => {
    // Green's answers name an arm the figures do not have (a client's bug), and those sent in stage 1 come 3 s
    // later: recording the first of them throws while the stage's end waits for them. Until session 24 the wait went on
    // to judge the stage without them, and nothing said why.
    const plan = planFromYaml(PLAN);
    const clock = new FakeClock();
    const start = clock.now();
    const green = scriptedArm('green', clock, start, (sentAt) => (sentAt < STAGE_MS ? { afterMs: 3_000, ok: true } : QUICK));
    const { engine, events, states } = recordedEngine({
      plan,
      clock,
      clients: {
        blue: scriptedArm('blue', clock, start, () => QUICK),
        green: { ...green, send: async (request, signal) => ({ ...(await green.send(request, signal)), arm: 'purple' as 'green' }) },
      },
      arrivals: arrivalsEvery(clock, 100),
    });
    const done = engine.run();
    await clock.advance(STAGE_MS + 3_000);
    // Ended during the wait, as the first such answer came (until then the rollout went on into stage 2).
    const failed = events.find((e) => e.type === 'failed');
    expect(failed?.at).toBeGreaterThan(start + STAGE_MS);
    const outcome = await done;
    expect(outcome).toMatchObject({ phase: 'failed', exitCode: 1 });
    expect(outcome.reason).toMatch(/^internal error: recording a green request's result failed: /);
    expect(events.some((e) => e.type === 'stage_passed' || e.type === 'breach')).toBe(false);
    expect(states.at(-1)).toMatchObject({ phase: 'failed', greenWeight: 0 });
  });

  it('judges a passed stage again on the failures answered after it, at the next judgement, and rolls back', async () => {
    // Green requests sent in stage 1 after its first second (its last second, and while its end waits) fail
    // 6.5 s later, past the request timeout: after the stage passed (at 7 s) on the 24 that answered at once.
    // Until session 17 they counted in its figures only, and the rollout promoted.
    const late = (sentAt: number) => sentAt >= 1_000 && sentAt < STAGE_MS + TIMEOUT_MS;
    const { clock, engine, events, states, plan, at } = setup((sentAt) => (late(sentAt) ? { afterMs: 6_500, ok: false } : QUICK), 20);
    const done = engine.run();
    await clock.advance(2 * (STAGE_MS + TIMEOUT_MS) + 1_000);
    expect(await done).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'error_rate' } });
    // Stage 1 passed at 7 s; its late failures answer from 7.5 s on, judged again at each interval (1 s) after.
    expect(at('stage_passed')).toBe(STAGE_MS + TIMEOUT_MS);
    expect(at('breach')).toBeGreaterThanOrEqual(8_000);
    expect(at('breach')).toBeLessThanOrEqual(10_000);
    const breach = events.find((e) => e.type === 'breach')!;
    expect(breach.stage).toBe(1);
    expect(breach.message).toMatch(/^stage 1 judged again on its \d+ results answered after it passed: green error_rate .* in stage 1/);
    const snapshot = states.at(-1)!;
    const stage1 = snapshot.stages[0]!;
    expect(stage1.late).toBeGreaterThan(0);
    expect(stage1.arms.green.successes).toBe(24);
    // The report keeps the checks stage 1 passed on, and shows stage 2 failed: the rollback came during it.
    const report = buildReport({ snapshot, plan, version: '0.0.0' });
    expect(report.stages.map((stage) => stage.verdict)).toEqual(['passed', 'failed']);
    expect(report.stages[0]).toMatchObject({ checksSource: 'engine' });
  });

  it('counts the successes answered after a stage passed as much as its failures: a green within its limits promotes', async () => {
    // The same late requests, answering well: judged again, stage 1 stays within its limits.
    const late = (sentAt: number) => sentAt >= 1_000 && sentAt < STAGE_MS + TIMEOUT_MS;
    const { clock, engine, states } = setup((sentAt) => (late(sentAt) ? { afterMs: 6_500, ok: true } : QUICK), 20);
    const done = engine.run();
    await clock.advance(2 * (STAGE_MS + TIMEOUT_MS) + 1_000);
    expect(await done).toMatchObject({ phase: 'promoted' });
    expect(states.at(-1)!.stages[0]!.late).toBeGreaterThan(100);
  });

  it("waits at the last stage's end for every stage's requests, and rolls back on those still running after their longest life", async () => {
    // Green requests sent in stage 1's last second hang: stage 1's end waits for them up to the request timeout
    // (2 s + 5 s), stage 2 runs to 9 s, and its end, the last, waits for them again before the promotion, up to 14 s.
    const { clock, engine, events, at } = setup((sentAt) => (sentAt >= 1_000 && sentAt < STAGE_MS ? 'hang' : QUICK), 20);
    const done = engine.run();
    await clock.advance(2 * STAGE_MS + TIMEOUT_MS + 1_000);
    expect(engine.snapshot().stageEndWait).toEqual({ stage: 1, requests: 25, upToMs: TIMEOUT_MS - 1_000, beforePromotion: true });
    // The rollback's drain gives up on them after the request timeout.
    await clock.advance(2 * TIMEOUT_MS);
    expect(await done).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'still_running', figure: 25 } });
    expect(at('breach')).toBe(2 * (STAGE_MS + TIMEOUT_MS));
    expect(events.find((e) => e.type === 'breach')?.message).toBe(
      "25 requests begun before the promotion are still running after the longest a request can live (stage 2's end waited that long): the promotion is the last judgement, and their answers would be judged by nothing; rolling back",
    );
  });

  it("does not wait at the last stage's end for blue's requests when no rule compares green with blue (loose19)", async () => {
    // Blue's requests sent in stage 1's last second hang; nothing judges green against them (error_rate alone).
    const blueHangs = (sentAt: number): Answer => (sentAt >= 1_000 && sentAt < STAGE_MS ? 'hang' : QUICK);
    const { clock, engine, events, at } = setup(() => QUICK, 20, blueHangs);
    const done = engine.run();
    // Stage 1's own end still waits for its requests (to 7 s); stage 2 runs to 9 s and promotes at once.
    await clock.advance(2 * STAGE_MS + TIMEOUT_MS + 1);
    expect(at('promoted')).toBe(2 * STAGE_MS + TIMEOUT_MS);
    await clock.advance(TIMEOUT_MS);
    expect(await done).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(events.some((e) => e.type === 'breach')).toBe(false);
  });

  it("waits for blue's too when a rule compares green with blue, and rolls back on those still running", async () => {
    const plan = twoStagePlan('in-flight-compare', ['interval: 1s', 'min_requests: 5', 'compare_to_blue: { max_error_rate_increase: 0.2 }'], {
      upstream: ', retries: { max: 0 }',
    });
    const blueHangs = (sentAt: number): Answer => (sentAt >= 1_000 && sentAt < STAGE_MS ? 'hang' : QUICK);
    const { clock, engine } = setup(() => QUICK, 20, blueHangs, plan);
    const done = engine.run();
    await clock.advance(2 * (STAGE_MS + TIMEOUT_MS) + 3 * TIMEOUT_MS);
    expect(await done).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'still_running' } });
  });

  it("judges an earlier stage's requests that answer during the last stage's wait before promoting", async () => {
    // Stage 1's green requests sent from 0.5 s to 4 s (its last 1.5 s, and during its end's wait) fail 10 s after
    // they were sent: past stage 1's wait (7 s) and the end of stage 2 (9 s), within the last stage's wait (to 14 s).
    // Judged with stage 1 as they come: no promotion.
    const { clock, engine, events, at } = setup((sentAt) => (sentAt >= 500 && sentAt < 4_000 ? { afterMs: 10_000, ok: false } : QUICK), 20);
    const done = engine.run();
    await clock.advance(2 * (STAGE_MS + TIMEOUT_MS));
    expect(await done).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'error_rate' } });
    expect(events.filter((e) => e.type === 'stage_passed')).toHaveLength(1);
    expect(at('breach')).toBeGreaterThan(2 * STAGE_MS + TIMEOUT_MS);
    expect(at('breach')).toBeLessThanOrEqual(2 * (STAGE_MS + TIMEOUT_MS));
    expect(events.find((e) => e.type === 'breach')?.message).toMatch(/^stage 1 judged again on its \d+ results answered after it passed: green error_rate/);
  });
});
