// A journal that stops accepting events (a full disk) must not stop a rollback half-way: the on_rollback hook
// still runs, the rollout still ends with its own exit code, and the failure is shown once as a warning.
import { describe, expect, it } from 'vitest';
import type { ArmClient, EngineDeps, HookCall } from '../../src/engine/deps.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import type { ArmName } from '../../src/plan/plan.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { arrivalsEvery, SAME_REQUEST } from './fake-deps.js';
import { halfThenAll, planFromYaml, planYaml } from '../helpers/plans.js';

const PLAN = planYaml({
  name: 'journal',
  upstream: 'simulate: { models: {} }',
  traffic: 'rate: 10',
  stages: halfThenAll('10s'),
  analysis: ['interval: 1s', 'thresholds: { consecutive_errors: 3 }'],
  more: 'hooks:\n  on_stage: { exec: "true" }\n  on_rollback: { exec: "true" }\n',
});

/** Answers after 100 ms of the fake clock; green fails once `failing()` says so. */
function arm(arm: ArmName, clock: FakeClock, failing: () => boolean): ArmClient {
  return {
    send: (request) =>
      new Promise((resolve) =>
        clock.setTimer(() => {
          const ok = !(arm === 'green' && failing());
          resolve({
            arm,
            model: arm,
            ok,
            status: ok ? 200 : 500,
            content: ok ? 'a fine answer here' : '',
            ...(!ok && { failure: 'server_error' as const, errorMessage: 'green arm: 500 (boom)' }),
            latencyMs: 100,
            attempts: 1,
            stream: request.stream,
          });
        }, 100),
      ),
    listModels: () => Promise.resolve({ ids: [], status: 200 }),
  };
}

function setup(journalFull: () => boolean, greenFailing: () => boolean) {
  const clock = new FakeClock();
  const journal: RolloutEvent[] = [];
  const hooks: HookCall[] = [];
  let turn = 0;
  const deps: EngineDeps = {
    plan: planFromYaml(PLAN),
    clock,
    clients: { blue: arm('blue', clock, greenFailing), green: arm('green', clock, greenFailing) },
    traffic: SAME_REQUEST,
    splitter: { choose: (weight) => (weight <= 0 ? 'blue' : turn++ % 2 ? 'green' : 'blue') },
    arrivals: arrivalsEvery(clock, 100),
    persistence: {
      appendEvent: (event) => {
        if (journalFull()) throw new Error('ENOSPC: no space left on device, write');
        journal.push(event);
      },
      writeState: () => {},
    },
    runHook: (_hook, call) => {
      hooks.push(call);
      return Promise.resolve({ ok: true, message: 'exited 0' });
    },
    pid: 1,
  };
  const engine = new RolloutEngine(deps);
  const seen: RolloutEvent[] = [];
  engine.onEvent((event) => seen.push(event));
  return { clock, engine, journal, hooks, seen };
}

describe('a journal that cannot be written', () => {
  it('a breach after the disk filled still runs on_rollback and ends the rollout (exit 10), warning once', async () => {
    let full = false;
    let failing = false;
    const { clock, engine, journal, hooks, seen } = setup(
      () => full,
      () => failing,
    );
    const done = engine.run();
    await clock.advance(3_000);
    full = true;
    failing = true;
    await clock.advance(5_000);
    const outcome = await done;

    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
    expect(hooks.map((call) => call.event)).toEqual(['stage', 'rollback']);
    expect(journal.some((event) => event.type === 'breach')).toBe(false);
    // The reporters still see every event, and one warning naming the journal.
    expect(seen.map((event) => event.type)).toEqual(expect.arrayContaining(['breach', 'rolled_back', 'drained', 'finished']));
    const warnings = seen.filter((event) => event.message.startsWith('events.jsonl could not be written'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('ENOSPC');
    expect(engine.snapshot().recentEvents.some((event) => event.message.startsWith('events.jsonl could not be written'))).toBe(true);
  });

  it('a journal full from the start does not stop a promotion', async () => {
    const { clock, engine, hooks, seen } = setup(
      () => true,
      () => false,
    );
    const done = engine.run();
    await clock.advance(25_000);
    expect(await done).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(hooks.map((call) => call.event)).toEqual(['stage', 'stage']);
    expect(seen.filter((event) => event.type === 'warning')).toHaveLength(1);
  });
});
