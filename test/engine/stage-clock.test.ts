// The stage clock, pause/resume, promotion and rollback driven by a fake clock and in-memory arms.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { arrivalsEvery, SAME_REQUEST } from './fake-deps.js';
import type { ArmClient, ControlRequest, EngineDeps, HookCall } from '../../src/engine/deps.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent, RolloutSnapshot } from '../../src/engine/types.js';
import type { ArmName } from '../../src/plan/plan.js';
import type { ChatRequest, UpstreamResult } from '../../src/upstream/types.js';
import { halfThenAll, planFromYaml, planYaml } from '../helpers/plans.js';

const PLAN = planYaml({
  name: 'fake',
  upstream: 'simulate: { models: {} }',
  traffic: 'rate: 10',
  stages: halfThenAll('10s'),
  analysis: ['interval: 1s', 'min_requests: 5', 'thresholds: { error_rate: 0.2, consecutive_errors: 3 }'],
  more: 'hooks:\n  on_stage: { exec: "true" }\n  on_rollback: { exec: "true" }\n',
});

/** An arm that answers at once, failing when told to. */
function fakeArm(arm: ArmName, failing: () => boolean, sent: ArmName[]): ArmClient {
  return {
    send: async (request: ChatRequest): Promise<UpstreamResult> => {
      sent.push(arm);
      const ok = !failing();
      return {
        arm,
        model: arm,
        ok,
        failure: ok ? undefined : 'server_error',
        status: ok ? 200 : 500,
        content: 'a fine answer here',
        latencyMs: 10,
        attempts: 1,
        stream: request.stream,
      };
    },
    listModels: async () => ({ ids: [], status: 200 }),
  };
}

function setup(
  options: {
    greenFails?: () => boolean;
    hookOk?: (call: HookCall) => boolean;
    /** Held until it resolves: a hook still running. */
    hookDone?: (call: HookCall) => Promise<void>;
    controls?: ControlRequest[];
    stateWriteFails?: () => boolean;
  } = {},
) {
  const clock = new FakeClock();
  const plan = planFromYaml(PLAN);
  const sent: ArmName[] = [];
  const events: RolloutEvent[] = [];
  const states: RolloutSnapshot[] = [];
  const hooks: HookCall[] = [];
  let alternate = 0;
  const deps: EngineDeps = {
    plan,
    clock,
    clients: { blue: fakeArm('blue', () => false, sent), green: fakeArm('green', options.greenFails ?? (() => false), sent) },
    traffic: SAME_REQUEST,
    // Alternate arms deterministically at 50%; all green at 100%; all blue at 0.
    splitter: { choose: (weight) => (weight >= 1 ? 'green' : weight <= 0 ? 'blue' : alternate++ % 2 ? 'green' : 'blue') },
    arrivals: arrivalsEvery(clock, 100),
    persistence: {
      appendEvent: (e) => events.push(e),
      writeState: (s) => {
        if (options.stateWriteFails?.()) throw new Error('ENOSPC: no space left on device');
        states.push(s);
      },
    },
    runHook: async (_hook, call) => {
      hooks.push(call);
      await options.hookDone?.(call);
      const ok = options.hookOk ? options.hookOk(call) : true;
      return { ok, message: ok ? 'exited 0' : 'exited 3' };
    },
    takeControlRequests: () => options.controls?.splice(0) ?? [],
    pid: 4242,
  };
  const engine = new RolloutEngine(deps);
  return { clock, engine, sent, events, states, hooks, plan };
}

describe('rollout engine on a fake clock', () => {
  it('runs each stage for its duration and promotes', async () => {
    const { clock, engine, events, hooks, states } = setup();
    const done = engine.run();
    await clock.advance(9_900);
    expect(engine.snapshot().stageIndex).toBe(0);
    await clock.advance(200);
    expect(engine.snapshot().stageIndex).toBe(1);
    await clock.advance(10_000);
    const outcome = await done;
    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['stage_started', 'stage_passed', 'finished']));
    expect(hooks.map((h) => `${h.event}:${h.stage}`)).toEqual(['stage:1', 'stage:2']);
    const last = states.at(-1)!;
    expect(last.phase).toBe('promoted');
    expect(last.stages.map((s) => s.verdict)).toEqual(['passed', 'passed']);
    expect(last.stages[0]!.arms.green.requests).toBeGreaterThan(40);
    expect(last.stages[0]!.arms.blue.requests).toBeGreaterThan(40);
    expect(last.exitCode).toBe(0);
    // state.json never says "promoted" before the journal does (the promotion's moves could still fail).
    const promotedStates = states.filter((s) => s.phase === 'promoted');
    expect(promotedStates.length).toBeGreaterThan(0);
    for (const state of promotedStates) expect(state.recentEvents.map((e) => e.type)).toContain('promoted');
  });

  it('shows no checks of the stage before when a stage starts, until its own first look (user35)', async () => {
    // Stage 2's hook is held past the 10 s look, so the stage starts between two looks (analysis.interval 1 s).
    let releaseHook = () => {};
    const hookHeld = new Promise<void>((resolve) => (releaseHook = resolve));
    const { clock, engine } = setup({ hookDone: (call) => (call.stage === 2 ? hookHeld : Promise.resolve()) });
    void engine.run();
    await clock.advance(10_300);
    expect(engine.snapshot().stageIndex).toBe(0);
    expect(engine.snapshot().checks.length).toBeGreaterThan(0);
    releaseHook();
    await clock.advance(50);
    const started = engine.snapshot();
    expect(started.stageIndex).toBe(1);
    // Stage 1's checks rested on its ~50 green requests: none of that is stage 2's.
    expect(started.checks).toEqual([]);
    await clock.advance(1_000);
    const looked = engine.snapshot();
    expect(looked.checks.length).toBeGreaterThan(0);
    for (const check of looked.checks) expect(check.sample).toBeLessThanOrEqual(looked.stages[1]!.arms.green.requests);
    engine.abort('test');
    await clock.advance(2_000);
  });

  it('goes on when state.json cannot be written, says so once, and saves the final state once it can', async () => {
    let diskFull = false;
    const { clock, engine, events, states } = setup({ stateWriteFails: () => diskFull });
    const done = engine.run();
    await clock.advance(2_000);
    diskFull = true;
    await clock.advance(10_000);
    diskFull = false;
    await clock.advance(9_000);
    expect((await done).exitCode).toBe(0);
    const warnings = events.filter((e) => e.type === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toBe(
      'state.json could not be written (ENOSPC: no space left on device); the rollout goes on, and events.jsonl still records it',
    );
    expect(states.at(-1)!.phase).toBe('promoted');
  });

  it('refuses to start (exit 2, nothing moved) when not even the first state.json can be written', async () => {
    const { clock, engine, events, hooks } = setup({ stateWriteFails: () => true });
    const done = engine.run();
    await clock.advance(1_000);
    const outcome = await done;
    expect(outcome).toMatchObject({ phase: 'failed', exitCode: 2 });
    expect(outcome.reason).toBe(
      'state.json could not be written (ENOSPC: no space left on device): a rollout does not run without a record to recover from; nothing was moved',
    );
    expect(events.map((e) => e.type)).not.toContain('stage_started');
    // One true thing said: no warning before it that "the rollout goes on".
    expect(events.filter((e) => e.type === 'warning')).toEqual([]);
    expect(hooks).toEqual([]);
  });

  it('says, when state.json cannot be written during an ending, that the journal records the ending (not that the rollout goes on)', async () => {
    let diskFull = false;
    const { clock, engine, events } = setup({ stateWriteFails: () => diskFull });
    const done = engine.run();
    await clock.advance(2_000);
    engine.abort('alice@host');
    diskFull = true;
    await clock.advance(1_000);
    expect((await done).exitCode).toBe(4);
    expect(events.filter((e) => e.type === 'warning').map((e) => e.message)).toEqual([
      'state.json could not be written (ENOSPC: no space left on device); events.jsonl still records how the rollout ends',
    ]);
  });

  it('journals a pause or resume from another terminal that changes nothing, instead of saying nothing', async () => {
    const controls: ControlRequest[] = [];
    const { clock, engine, events } = setup({ controls });
    void engine.run();
    await clock.advance(1_000);
    controls.push({ action: 'resume', actor: 'alice@host' });
    await clock.advance(1_000);
    controls.push({ action: 'pause', actor: 'alice@host' });
    await clock.advance(1_000);
    controls.push({ action: 'pause', actor: 'bob@host' });
    await clock.advance(1_000);
    const said = events.filter((e) => e.type === 'warning' || e.type === 'paused').map((e) => `${e.type}: ${e.message}`);
    expect(said).toEqual([
      'warning: resume requested by alice@host: the rollout is not paused; nothing to do',
      'paused: paused by alice@host: traffic goes on at 50% green, the stage clock is stopped',
      'warning: pause requested by bob@host: the rollout is already paused; nothing to do',
    ]);
    expect(engine.snapshot().phase).toBe('paused');
  });

  it('journals a request that reached the folder only as the rollout was ending, rather than dropping it unsaid (hostile30)', async () => {
    // `bluegreen abort` checks the rollout is not ending, then writes its request: the last stage can pass, or a
    // breach roll back, in between. The command said "abort requested"; the engine read requests no more.
    const controls: ControlRequest[] = [];
    let releaseRollback = () => {};
    const rollbackHeld = new Promise<void>((resolve) => (releaseRollback = resolve));
    let rollbackRunning = () => {};
    const rollbackStarted = new Promise<void>((resolve) => (rollbackRunning = resolve));
    const { clock, engine, events } = setup({
      controls,
      greenFails: () => true,
      hookDone: (call) => {
        if (call.event !== 'rollback') return Promise.resolve();
        rollbackRunning();
        return rollbackHeld;
      },
    });
    const done = engine.run();
    await clock.advance(3_000);
    await rollbackStarted;
    controls.push({ action: 'abort', actor: 'bob@host (pid 7)' });
    await clock.advance(1_000);
    releaseRollback();
    await clock.advance(1_000);
    expect((await done).exitCode).toBe(10);
    const untaken = events.findIndex((e) => e.type === 'warning' && e.message.startsWith('abort requested by bob@host (pid 7)'));
    expect(events[untaken]?.message).toBe('abort requested by bob@host (pid 7) reached the rollout only as it was already ending (rolled back): not taken');
    expect(untaken).toBeLessThan(events.findIndex((e) => e.type === 'finished'));
    expect(controls).toEqual([]);
  });

  it('stops the stage clock while paused and goes on after resume', async () => {
    const controls: ControlRequest[] = [];
    const { clock, engine } = setup({ controls });
    const done = engine.run();
    await clock.advance(5_000);
    controls.push({ action: 'pause', actor: 'alice@host' });
    await clock.advance(30_000);
    const paused = engine.snapshot();
    expect(paused.phase).toBe('paused');
    expect(paused.stageIndex).toBe(0);
    expect(paused.stageElapsedMs).toBeGreaterThanOrEqual(5_000);
    expect(paused.stageElapsedMs).toBeLessThan(5_500);
    // Traffic goes on while paused.
    expect(paused.stages[0]!.arms.blue.requests + paused.stages[0]!.arms.green.requests).toBeGreaterThan(300);
    expect(paused.recentEvents.some((e) => e.type === 'paused' && e.actor === 'alice@host')).toBe(true);
    controls.push({ action: 'resume', actor: 'alice@host' });
    await clock.advance(5_000);
    expect(engine.snapshot().stageIndex).toBe(1);
    await clock.advance(11_000);
    expect((await done).exitCode).toBe(0);
  });

  it('paused before stage 1 began (p as the dashboard comes up): nothing moves to green until resumed', async () => {
    const { clock, engine, sent, hooks, events } = setup();
    const done = engine.run();
    engine.pause('alice@host (dashboard)');
    await clock.advance(30_000);
    const paused = engine.snapshot();
    expect(paused.phase).toBe('paused');
    expect(paused.greenWeight).toBe(0);
    expect(hooks).toEqual([]);
    expect(sent.filter((arm) => arm === 'green')).toEqual([]);
    expect(events.some((e) => e.type === 'stage_started')).toBe(false);
    expect(events.find((e) => e.type === 'paused')?.message).toBe(
      'paused by alice@host (dashboard): stage 1 does not begin until resumed: nothing moves to green',
    );
    engine.resume('alice@host (dashboard)');
    await clock.advance(1_000);
    expect(engine.snapshot().greenWeight).toBe(0.5);
    expect(events.filter((e) => e.type === 'stage_started')).toHaveLength(1);
    await clock.advance(21_000);
    expect((await done).exitCode).toBe(0);
  });

  it("paused while stage 1's traffic move is under way (its hook running): says that move goes on (hostile22)", async () => {
    // It said "stage 1 does not begin until resumed: nothing moves to green", and the hook it could no longer hold
    // back then moved traffic to 50% green all the same.
    let finishHook = (): void => {};
    const hookRunning = new Promise<void>((started) => {
      finishHook = started;
    });
    const { clock, engine, hooks, events } = setup({ hookDone: (call) => (call.event === 'stage' ? hookRunning : Promise.resolve()) });
    const done = engine.run();
    await clock.advance(0);
    expect(hooks.map((h) => `${h.event}:${h.stage}`)).toEqual(['stage:1']);
    engine.pause('alice@host (dashboard)');
    expect(events.find((e) => e.type === 'paused')?.message).toBe(
      "paused by alice@host (dashboard): stage 1's move to 50% green is under way and cannot be held back: traffic goes on there, the stage clock is stopped",
    );
    finishHook();
    await clock.advance(30_000);
    expect(engine.snapshot()).toMatchObject({ phase: 'paused', greenWeight: 0.5, stageIndex: 0 });
    engine.abort('alice@host (dashboard)');
    await clock.advance(1_000);
    expect((await done).phase).not.toBe('promoted');
  });

  it('rolls back on consecutive green errors at once, and sends nothing to green after', async () => {
    let failing = false;
    const { clock, engine, sent, hooks } = setup({ greenFails: () => failing });
    const done = engine.run();
    await clock.advance(3_000);
    failing = true;
    await clock.advance(700);
    const outcome = await done;
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
    expect(outcome.breach?.rule).toBe('consecutive_errors');
    const greenBefore = sent.filter((a) => a === 'green').length;
    await clock.advance(5_000);
    expect(sent.filter((a) => a === 'green').length).toBe(greenBefore);
    expect(hooks.at(-1)?.event).toBe('rollback');
    expect(engine.snapshot().greenWeight).toBe(0);
    expect(engine.snapshot().stages[0]!.verdict).toBe('failed');
  });

  it('rolls back when the on_stage hook fails', async () => {
    const { clock, engine } = setup({ hookOk: (call) => call.stage !== 2 });
    const done = engine.run();
    await clock.advance(10_500);
    const outcome = await done;
    expect(outcome.exitCode).toBe(10);
    expect(outcome.breach?.rule).toBe('hook');
    expect(outcome.reason).toContain('on_stage hook for stage 2 failed');
  });

  it('aborts with exit 4 and promotes with exit 0 on operator request', async () => {
    const abort = setup({ controls: [{ action: 'abort', actor: 'bob' }] });
    const aborted = abort.engine.run();
    await abort.clock.advance(1_000);
    expect(await aborted).toMatchObject({ phase: 'aborted', exitCode: 4 });
    expect(abort.engine.snapshot().greenWeight).toBe(0);

    const promote = setup({ controls: [{ action: 'promote', actor: 'carol' }] });
    const promoted = promote.engine.run();
    await promote.clock.advance(1_000);
    expect(await promoted).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(promote.engine.snapshot().greenWeight).toBe(1);
    expect(promote.engine.snapshot().stages.map((s) => s.verdict)).toEqual(['skipped', 'skipped']);
  });

  it('rolls back to blue on SIGINT and SIGTERM with 130 and 143', async () => {
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const { clock, engine, states } = setup();
      const done = engine.run();
      await clock.advance(2_000);
      engine.interrupt(signal);
      await clock.advance(0);
      expect(await done).toMatchObject({ phase: 'interrupted', exitCode: code });
      expect(states.at(-1)!.phase).toBe('interrupted');
      expect(states.at(-1)!.greenWeight).toBe(0);
    }
  });
});
