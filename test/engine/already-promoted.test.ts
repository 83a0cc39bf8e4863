// A live re-run that finds green already promoted ends at once as promoted: no stage starts, no request is sent,
// no actuator moves traffic and no hook runs; the journal and the snapshot say why.
import { describe, expect, it } from 'vitest';
import type { ArmClient, EngineDeps, HookCall } from '../../src/engine/deps.js';
import type { Actuator } from '../../src/engine/actuator.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { arrivalsEvery, SAME_REQUEST } from './fake-deps.js';
import { halfThenAll, planFromYaml, planYaml } from '../helpers/plans.js';

const PLAN = planYaml({
  name: 'rerun',
  upstream: 'simulate: { models: {} }',
  traffic: 'rate: 10',
  stages: halfThenAll('10s'),
  more: 'hooks:\n  on_stage: { exec: "true" }\n  on_promote: { exec: "true" }\n',
});

describe('a rollout whose green is already promoted', () => {
  it('ends promoted (exit 0) at once, moving nothing and running no hook', async () => {
    const clock = new FakeClock();
    const journal: RolloutEvent[] = [];
    const hooks: HookCall[] = [];
    const moves: string[] = [];
    let sent = 0;
    const client: ArmClient = {
      send: () => {
        sent++;
        return Promise.reject(new Error('no request is sent'));
      },
      listModels: () => Promise.resolve({ ids: [], status: 200 }),
    };
    const actuator: Actuator = {
      applyStage: (move) => (moves.push(`stage ${move.stage}`), Promise.resolve([])),
      applyEnding: (move) => (moves.push(`ending ${move.event}`), Promise.resolve([])),
      cancel: () => (moves.push('cancel'), Promise.resolve()),
    };
    const deps: EngineDeps = {
      plan: planFromYaml(PLAN),
      clock,
      clients: { blue: client, green: client },
      traffic: SAME_REQUEST,
      splitter: { choose: () => 'green' },
      arrivals: arrivalsEvery(clock, 100),
      persistence: { appendEvent: (event) => journal.push(event), writeState: () => {} },
      runHook: (_hook, call) => (hooks.push(call), Promise.resolve({ ok: true, message: 'exited 0' })),
      pid: 1,
      actuators: [actuator],
      alreadyPromoted: 'g was already promoted on proxy http://127.0.0.1:1 since 2026-12-01T00:00:00.000Z; nothing moved',
    };
    const engine = new RolloutEngine(deps);
    const done = engine.run();
    await clock.advance(30_000);
    expect(await done).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(hooks).toEqual([]);
    expect(moves).toEqual([]);
    expect(sent).toBe(0);
    expect(journal.map((event) => event.type)).toEqual(['rollout_started', 'promoted', 'drained', 'finished']);
    expect(journal[1]?.message).toBe(`promoted: ${deps.alreadyPromoted}`);
    const snapshot = engine.snapshot();
    expect(snapshot).toMatchObject({ phase: 'promoted', exitCode: 0, greenWeight: 1, reason: deps.alreadyPromoted });
    expect(snapshot.stages.every((stage) => stage.arms.green.requests === 0 && stage.arms.blue.requests === 0)).toBe(true);
  });
});
