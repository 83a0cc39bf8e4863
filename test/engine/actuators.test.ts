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
