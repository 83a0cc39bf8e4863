// What the journal says as a rollout ends is true when it is written: the `aborted` and `rolled_back` events say
// traffic is being returned to blue (the ending's hook has not run yet); the `finished` line, state.json's reason
// and the outcome confirm it once the hook succeeded, or say that it failed, the same words in all three.
import { describe, expect, it } from 'vitest';
import type { ActuationResult, Actuator } from '../../src/engine/actuator.js';
import type { ArmClient, EngineDeps, HookCall } from '../../src/engine/deps.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import type { ArmName } from '../../src/plan/plan.js';
import { endingSentence } from '../../src/report/ending-text.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml, simulatedPlan } from '../helpers/plans.js';
import { arrivalsEvery, SAME_REQUEST } from './fake-deps.js';

const PLAN = `${simulatedPlan('words', '10s', 0.5)}hooks:
  on_stage: { exec: ./set-weight.sh }
  on_rollback: { exec: ./to-blue.sh }
  on_abort: { exec: ./to-blue.sh }
`;

// Each arm's answers name it, as a real client's do: the recorder files a result under its arm (one without threw in
// settle, a rejection nothing handled once the dispatcher no longer settled a request twice: edges23).
const clientOf = (arm: ArmName): ArmClient => ({
  send: () => Promise.resolve({ arm, model: arm, ok: true, status: 200, latencyMs: 5, content: 'a fine answer', attempts: 1, stream: false }),
  listModels: () => Promise.resolve({ ids: [], status: 200 }),
});

/** A rollout whose hooks answer as `outcome` says; journal[i].message is read with what the hooks had done by then. */
function rollout(outcome: (call: HookCall) => { ok: boolean; message: string }, actuators: Actuator[] = []) {
  const clock = new FakeClock();
  const journal: (RolloutEvent & { hooksRun: string[] })[] = [];
  const hooksRun: string[] = [];
  const deps: EngineDeps = {
    plan: planFromYaml(PLAN),
    clock,
    clients: { blue: clientOf('blue'), green: clientOf('green') },
    traffic: SAME_REQUEST,
    splitter: { choose: () => 'blue' },
    arrivals: arrivalsEvery(clock, 100),
    persistence: { appendEvent: (event) => journal.push({ ...event, hooksRun: [...hooksRun] }), writeState: () => {} },
    runHook: (_hook, call) => {
      hooksRun.push(call.event);
      return Promise.resolve(outcome(call));
    },
    pid: 1,
    actuators,
  };
  const engine = new RolloutEngine(deps);
  return { clock, engine, journal, done: engine.run() };
}

const event = (journal: RolloutEvent[], type: RolloutEvent['type']) => journal.find((e) => e.type === type);

describe('the words of an ending', () => {
  it('abort: "returning traffic to blue" before on_abort runs, "back on blue" once it succeeded', async () => {
    const { clock, engine, journal, done } = rollout(() => ({ ok: true, message: 'exited 0' }));
    await clock.advance(1000);
    engine.abort('bob');
    await clock.advance(1000);
    const outcome = await done;
    const aborted = journal.find((e) => e.type === 'aborted');
    expect(aborted?.hooksRun).toEqual(['stage']);
    expect(aborted?.message).toBe('aborted by bob; returning traffic to blue');
    expect(journal.map((e) => e.type).filter((type) => type !== 'warning')).toEqual([
      'rollout_started',
      'hook_succeeded',
      'stage_started',
      'abort_requested',
      'aborted',
      'hook_succeeded',
      'drained',
      'finished',
    ]);
    expect(event(journal, 'finished')?.message).toBe('aborted by bob; traffic is back on blue (exit 4)');
    expect(outcome.reason).toBe('aborted by bob; traffic is back on blue');
    expect(engine.snapshot().reason).toBe(outcome.reason);
  });

  it('abort whose on_abort fails: no line claims blue; the finished line, state and outcome say it failed, alike', async () => {
    const { clock, engine, journal, done } = rollout((call) =>
      call.event === 'abort' ? { ok: false, message: 'exec ./to-blue.sh exited 3' } : { ok: true, message: 'exited 0' },
    );
    await clock.advance(1000);
    engine.abort('bob');
    await clock.advance(1000);
    const outcome = await done;
    for (const line of journal) expect(line.message).not.toMatch(/back on blue$|back on blue \(exit/);
    const reason = 'aborted by bob, but putting traffic back on blue failed (on_abort hook: exec ./to-blue.sh exited 3): check by hand that traffic is on blue';
    expect(outcome.reason).toBe(reason);
    expect(engine.snapshot().reason).toBe(reason);
    expect(event(journal, 'finished')?.message).toBe(`${reason} (exit 4)`);
    expect(endingSentence(outcome)).toBe(`exit 4 — ${reason}`);
  });

  it('rollback: "rolling back to blue" before on_rollback runs; if it fails, the ending does not read "rolled back to blue"', async () => {
    // Stage 2's on_stage fails: the rollout rolls back (rule hook), and on_rollback fails too.
    const { clock, journal, done } = rollout((call) =>
      (call.event === 'stage' && call.stage === 2) || call.event === 'rollback' ? { ok: false, message: 'exited 3' } : { ok: true, message: 'exited 0' },
    );
    await clock.advance(11_000);
    const outcome = await done;
    const rolledBack = journal.find((e) => e.type === 'rolled_back');
    expect(rolledBack?.hooksRun).toEqual(['stage', 'stage']);
    expect(rolledBack?.message).toBe('rolling back to blue on hook');
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
    expect(outcome.reason).toBe(
      'on_stage hook for stage 2 failed: exited 3, but putting traffic back on blue failed (on_rollback hook: exited 3): check by hand that traffic is on blue',
    );
    expect(event(journal, 'finished')?.message).toBe(`rolled back: ${outcome.reason} (exit 10)`);
    expect(endingSentence(outcome)).toBe(`exit 10 — rolled back: ${outcome.reason}`);
  });

  // A proxy that another rollout promoted (and whose rollout reported it done) refuses this run's blue (409 promoted):
  // green serves there by right. The words said "putting traffic back on blue failed ... check by hand that traffic is
  // on blue", as for a broken hook; they now say what happened there and what to check.
  const PROMOTED_THERE =
    '/admin/route answered 409: another rollout promoted green here at 2026-12-03T00:00:00.000Z (alice@ci-3 pid 4242, state folder /srv/b/.bluegreen: promoted green) and reported it done; it serves green, that promotion left standing';

  /** Proxies whose ending answers as given (by label); their stage moves all succeed. */
  function proxies(endings: Record<string, Omit<ActuationResult, 'label'>>): Actuator[] {
    return Object.entries(endings).map(([label, ending]) => ({
      applyStage: () => Promise.resolve([{ ok: true, label, message: 'serving the stage' }]),
      applyEnding: () => Promise.resolve([{ label, ...ending }]),
      cancel: () => Promise.resolve(),
    }));
  }

  it('abort over a proxy another rollout promoted: says green serves there by that promotion, and to check that it should', async () => {
    const { clock, engine, journal, done } = rollout(
      () => ({ ok: true, message: 'exited 0' }),
      proxies({ 'proxy http://127.0.0.1:8788': { ok: false, promotedElsewhere: true, message: PROMOTED_THERE } }),
    );
    await clock.advance(1000);
    engine.abort('bob');
    await clock.advance(1000);
    const outcome = await done;
    const reason =
      `aborted by bob, but 1 proxy still serves green, promoted there by another rollout that reported it done (proxy http://127.0.0.1:8788: ${PROMOTED_THERE}): ` +
      "check by hand that green should serve there (else an operator's PUT /admin/route puts it on blue)";
    expect(outcome).toMatchObject({ phase: 'aborted', exitCode: 4, reason });
    expect(engine.snapshot().reason).toBe(reason);
    expect(event(journal, 'finished')?.message).toBe(`${reason} (exit 4)`);
    expect(endingSentence(outcome)).toBe(`exit 4 — ${reason}`);
    expect(reason).not.toContain('traffic is on blue');
  });

  it('rollback where one proxy failed and another kept a promotion made there: says both, and what to check of each', async () => {
    const { clock, journal, done } = rollout(
      (call) => (call.event === 'stage' && call.stage === 2 ? { ok: false, message: 'exited 3' } : { ok: true, message: 'exited 0' }),
      proxies({
        'proxy http://127.0.0.1:8788': { ok: false, promotedElsewhere: true, message: PROMOTED_THERE },
        'proxy http://127.0.0.1:9788': { ok: false, message: 'connect ECONNREFUSED; its lease runs out and it returns to blue on its own' },
      }),
    );
    await clock.advance(11_000);
    const outcome = await done;
    const reason =
      'on_stage hook for stage 2 failed: exited 3, but putting traffic back on blue failed (proxy http://127.0.0.1:9788: connect ECONNREFUSED; its lease runs out and it returns to blue on its own), ' +
      `and 1 proxy still serves green, promoted there by another rollout that reported it done (proxy http://127.0.0.1:8788: ${PROMOTED_THERE}): ` +
      "check by hand that traffic is on blue elsewhere, and that green should serve there (else an operator's PUT /admin/route puts it on blue)";
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10, reason });
    expect(event(journal, 'finished')?.message).toBe(`rolled back: ${reason} (exit 10)`);
    expect(endingSentence(outcome)).toBe(`exit 10 — rolled back: ${reason}`);
  });
});
