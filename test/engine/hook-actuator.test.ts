import { describe, expect, it } from 'vitest';
import type { HookRunner } from '../../src/engine/deps.js';
import { Actuators } from '../../src/engine/actuator.js';
import { HookActuator } from '../../src/engine/hook-actuator.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml, simulatedPlan } from '../helpers/plans.js';

describe('HookActuator', () => {
  it('stops a running on_stage hook before the ending hook runs', async () => {
    const plan = planFromYaml(`${simulatedPlan('hooks', '1s', 0.5)}hooks:\n  on_stage: { exec: ./set-weight.sh }\n  on_rollback: { exec: ./set-weight.sh }\n`);
    const log: string[] = [];
    const runHook: HookRunner = (_hook, call, signal) =>
      new Promise((resolve) => {
        log.push(`start ${call.event}`);
        if (call.event !== 'stage') return resolve({ ok: true, message: 'done' });
        signal?.addEventListener('abort', () => {
          log.push('stage hook killed');
          resolve({ ok: false, message: 'killed by SIGTERM' });
        });
      });
    const actuator = new HookActuator(plan, runHook, new FakeClock());
    const stage = actuator.applyStage({ stage: 1, stages: 3, greenWeight: 0.5 });
    await actuator.cancel();
    const ending = await actuator.applyEnding({ event: 'rollback', stage: 1, stages: 3, greenWeight: 0, reason: 'aborted' });
    expect(await stage).toEqual([{ ok: false, label: 'on_stage hook', message: 'killed by SIGTERM' }]);
    expect(ending).toEqual([{ ok: true, label: 'on_rollback hook', message: 'done' }]);
    expect(log).toEqual(['start stage', 'stage hook killed', 'start rollback']);
  });
});

describe('Actuators', () => {
  it('reports each result with the stage and weight it moved traffic to', async () => {
    const reported: { label: string; stage: number; greenWeight: number }[] = [];
    const actuator = {
      applyStage: () => Promise.resolve([{ ok: true, label: 'on_stage hook', message: 'done' }]),
      applyEnding: () => Promise.resolve([{ ok: true, label: 'on_rollback hook', message: 'done' }]),
      cancel: () => Promise.resolve(),
    };
    const actuators = new Actuators([actuator], (result, move) => reported.push({ label: result.label, stage: move.stage, greenWeight: move.greenWeight }));
    await actuators.applyStage({ stage: 1, stages: 3, greenWeight: 0.25 });
    await actuators.applyEnding({ event: 'rollback', stage: 1, stages: 3, greenWeight: 0, reason: 'breach' });
    expect(reported).toEqual([
      { label: 'on_stage hook', stage: 1, greenWeight: 0.25 },
      { label: 'on_rollback hook', stage: 1, greenWeight: 0 },
    ]);
  });
});
