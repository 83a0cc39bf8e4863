import { describe, expect, it, vi } from 'vitest';
import { repeatEvery } from '../../src/engine/repeat.js';
import { StageClock } from '../../src/engine/stage-clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('StageClock', () => {
  it('ends the stage after its running time, pauses excluded', async () => {
    const clock = new FakeClock();
    const timeUp = vi.fn();
    const stage = new StageClock(clock, timeUp);
    stage.begin(10_000, true);
    await clock.advance(4_000);
    stage.stop();
    await clock.advance(60_000);
    expect(timeUp).not.toHaveBeenCalled();
    expect(stage.elapsed()).toBe(4_000);
    stage.run();
    await clock.advance(5_999);
    expect(timeUp).not.toHaveBeenCalled();
    await clock.advance(1);
    expect(timeUp).toHaveBeenCalledTimes(1);
  });

  it('a stage begun paused does not run until told', async () => {
    const clock = new FakeClock();
    const timeUp = vi.fn();
    const stage = new StageClock(clock, timeUp);
    stage.begin(1_000, false);
    await clock.advance(5_000);
    expect(timeUp).not.toHaveBeenCalled();
    expect(stage.elapsed()).toBe(0);
  });

  it('extends a running stage', async () => {
    const clock = new FakeClock();
    const timeUp = vi.fn();
    const stage = new StageClock(clock, timeUp);
    stage.begin(1_000, true);
    await clock.advance(900);
    stage.extend(500);
    await clock.advance(599);
    expect(timeUp).not.toHaveBeenCalled();
    await clock.advance(1);
    expect(timeUp).toHaveBeenCalledTimes(1);
  });
});

describe('repeatEvery', () => {
  it('ticks every interval until cancelled, including when a tick cancels it', async () => {
    const clock = new FakeClock();
    let ticks = 0;
    const handle = repeatEvery(clock, 100, () => {
      ticks++;
      if (ticks === 3) handle.cancel();
    });
    await clock.advance(1_000);
    expect(ticks).toBe(3);
    expect(clock.pendingTimers()).toBe(0);
  });
});
