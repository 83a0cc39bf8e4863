// Dispatcher.settled: a stage's end waits for the requests sent at that stage, the last stage's end (when nothing
// compares green with blue) for green's of every stage, and a whole drain for all; requests sent later are not
// waited for. Answers are released by the test, one request at a time.
import { describe, expect, it } from 'vitest';
import type { ArmName } from '../../src/plan/plan.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { greenDispatcher } from './dispatcher-fakes.js';

function setup() {
  const held: (() => void)[] = [];
  /** Each request answers when the test calls its release (in the order they were sent). */
  const client = (arm: ArmName) => ({
    send: () =>
      new Promise<UpstreamResult>((resolve) =>
        held.push(() => resolve({ arm, model: arm, ok: true, content: 'hi', latencyMs: 1, attempts: 1, stream: false })),
      ),
    listModels: () => Promise.reject(new Error('unused')),
  });
  let next: ArmName = 'green';
  const { dispatcher } = greenDispatcher(
    { blue: client('blue'), green: client('green') },
    {
      splitter: { choose: () => next },
      stages: 2,
    },
  );
  const send = (stage: number, arm: ArmName): void => {
    next = arm;
    dispatcher.dispatch(stage, 0.5);
  };
  /** Starts a wait (its timer never fires) and gives how many it waits for, and its end. */
  const wait = (scope: number | 'every' | 'every green') => {
    let running = (): number => 0;
    const ended = dispatcher.settled(
      scope,
      60_000,
      () => ({ cancel: () => undefined }),
      (count) => (running = count),
    );
    return { running: () => running(), ended };
  };
  return { held, send, wait };
}

describe('Dispatcher.settled', () => {
  it("waits for a stage's own requests only", async () => {
    const { held, send, wait } = setup();
    send(0, 'green');
    send(1, 'blue');
    send(0, 'blue');
    const stage0 = wait(0);
    expect(stage0.running()).toBe(2);
    // Sent after the wait began: not waited for.
    send(0, 'green');
    held[0]?.();
    held[2]?.();
    expect(await stage0.ended).toBe(0);
    expect(wait(1).running()).toBe(1);
    expect(wait('every').running()).toBe(2);
  });

  it("waits at the last stage's end for green's requests of every stage, not blue's", async () => {
    const { held, send, wait } = setup();
    send(0, 'green');
    send(1, 'blue');
    send(1, 'green');
    const green = wait('every green');
    expect(green.running()).toBe(2);
    held[0]?.();
    held[2]?.();
    expect(await green.ended).toBe(0);
    expect(wait('every').running()).toBe(1);
  });

  it('resolves at once when nothing it would wait for is in flight', async () => {
    const { held, send, wait } = setup();
    send(1, 'blue');
    expect(await wait(0).ended).toBe(0);
    expect(await wait('every green').ended).toBe(0);
    const every = wait('every');
    expect(every.running()).toBe(1);
    held[0]?.();
    expect(await every.ended).toBe(0);
  });
});
