// Actuators in order: one that fails outright (rejects) is reported as a failure, and the next still acts, so a
// rollback still reaches the on_rollback hook after a proxy actuator threw.
import { describe, expect, it } from 'vitest';
import { Actuators, type ActuationResult, type Actuator, type EndingMove } from '../../src/engine/actuator.js';

function actuator(result: () => Promise<ActuationResult[]>, calls: string[], name: string): Actuator {
  return {
    applyStage: () => {
      calls.push(`${name} stage`);
      return result();
    },
    applyEnding: () => {
      calls.push(`${name} ending`);
      return result();
    },
    cancel: () => Promise.resolve(),
  };
}

const ROLLBACK: EndingMove = { event: 'rollback', stage: 1, stages: 3, greenWeight: 0, reason: 'green error_rate 30%' };

describe('Actuators', () => {
  it('goes on to the next actuator when one rejects, reporting the rejection as a failure', async () => {
    const calls: string[] = [];
    const reported: ActuationResult[] = [];
    const actuators = new Actuators(
      [
        actuator(() => Promise.reject(new Error('socket exploded')), calls, 'proxies'),
        actuator(() => Promise.resolve([{ ok: true, label: 'on_rollback hook', message: 'exited 0' }]), calls, 'hooks'),
      ],
      (result) => reported.push(result),
    );
    const results = await actuators.applyEnding(ROLLBACK);
    expect(calls).toEqual(['proxies ending', 'hooks ending']);
    expect(results.map((result) => result.ok)).toEqual([false, true]);
    expect(reported[0]?.message).toContain('socket exploded');
    // A stage move that rejects fails the stage (the engine rolls back on it) rather than escaping.
    const stage = await actuators.applyStage({ stage: 0, stages: 3, greenWeight: 0.1 });
    expect(stage.find((result) => !result.ok)?.label).toBe('actuator');
  });
});

// leftalone11: a live stage move still waiting on a slow proxy when the rollout began to end went on, once the proxy
// answered, to start the on_stage hook: it could set the stage's weight after on_rollback had set blue.
describe('a stage move under way when the rollout starts to end', () => {
  it('moves no further actuator once cancel() was called: no on_stage after the ending began', async () => {
    const calls: string[] = [];
    let answer!: (results: ActuationResult[]) => void;
    const slow = actuator(() => new Promise((resolve) => (answer = resolve)), calls, 'proxies');
    const hooks = actuator(() => Promise.resolve([{ ok: true, label: 'on_stage hook', message: 'exited 0' }]), calls, 'hooks');
    const actuators = new Actuators([slow, hooks], () => undefined);
    const stage = actuators.applyStage({ stage: 1, stages: 3, greenWeight: 0.5 });
    await actuators.cancel();
    answer([{ ok: true, label: 'proxy http://127.0.0.1:1', message: 'green 0.5' }]);
    expect(await stage).toEqual([{ ok: true, label: 'proxy http://127.0.0.1:1', message: 'green 0.5' }]);
    expect(calls).toEqual(['proxies stage']);
  });
});
