// StateSaver: one state.json write at a time, the newest snapshot each time, failures reported once.
import { describe, expect, it } from 'vitest';
import { StateSaver } from '../../src/engine/state-saver.js';
import type { RolloutSnapshot } from '../../src/engine/types.js';

/** A write the test finishes by hand, so "a write is running" is a state the test controls. */
function manualWrites() {
  const started: { stage: number; finish: () => void; fail: (error: Error) => void }[] = [];
  const write = (snapshot: RolloutSnapshot) =>
    new Promise<void>((resolve, reject) => started.push({ stage: snapshot.stageIndex, finish: resolve, fail: reject }));
  return { started, write };
}

function saver(write: (snapshot: RolloutSnapshot) => Promise<void> | void, current: { stage: number }, errors: string[] = []) {
  return new StateSaver({ build: () => ({ stageIndex: current.stage }) as RolloutSnapshot, write, onError: (message) => errors.push(message) });
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('StateSaver', () => {
  it('starts a write at once and folds requests made meanwhile into one write of the newest snapshot', async () => {
    const { started, write } = manualWrites();
    const current = { stage: 1 };
    const states = saver(write, current);
    states.request();
    expect(started.map((w) => w.stage)).toEqual([1]);
    for (const stage of [2, 3, 4]) {
      current.stage = stage;
      states.request();
    }
    expect(started).toHaveLength(1);
    started[0]!.finish();
    await settle();
    // Built when the second write started, so it shows stage 4, not 2.
    expect(started.map((w) => w.stage)).toEqual([1, 4]);
    started[1]!.finish();
    await states.flush();
    expect(started).toHaveLength(2);
  });

  it('flush waits for the follow-up write too', async () => {
    const { started, write } = manualWrites();
    const current = { stage: 1 };
    const states = saver(write, current);
    states.request();
    current.stage = 2;
    states.request();
    let flushed = false;
    const flushing = states.flush().then(() => (flushed = true));
    started[0]!.finish();
    await settle();
    expect(flushed).toBe(false);
    started[1]!.finish();
    await flushing;
    expect(started.map((w) => w.stage)).toEqual([1, 2]);
  });

  it('reports a failure once while it repeats, again after a success, and keeps writing', async () => {
    const errors: string[] = [];
    let failure: Error | undefined = new Error('ENOSPC: no space left on device');
    const written: number[] = [];
    const current = { stage: 1 };
    const states = saver(
      (snapshot) => {
        if (failure) throw failure;
        written.push(snapshot.stageIndex);
      },
      current,
      errors,
    );
    for (let i = 0; i < 3; i++) {
      states.request();
      await states.flush();
    }
    expect(errors).toEqual(['ENOSPC: no space left on device']);
    failure = undefined;
    current.stage = 2;
    states.request();
    await states.flush();
    expect(written).toEqual([2]);
    failure = new Error('ENOSPC: no space left on device');
    states.request();
    await states.flush();
    expect(errors).toHaveLength(2);
  });

  it('flush resolves at once when nothing was asked', async () => {
    await saver(() => {}, { stage: 0 }).flush();
  });
});
