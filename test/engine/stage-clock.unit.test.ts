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

describe('StageClock on a wall clock that steps', () => {
  it('a forward step while running, then a pause, does not end the stage on resume', async () => {
    // Before: stop() added the hour to the elapsed time, and run() set a 0 ms timer: the stage passed at once.
    const clock = new FakeClock();
    const timeUp = vi.fn();
    const stage = new StageClock(clock, timeUp);
    stage.begin(10_000, true);
    await clock.advance(4_000);
    clock.jumpWall(3_600_000);
    stage.stop();
    expect(stage.elapsed()).toBe(4_000);
    await clock.advance(60_000);
    stage.run();
    await clock.advance(5_999);
    expect(timeUp).not.toHaveBeenCalled();
    await clock.advance(1);
    expect(timeUp).toHaveBeenCalledTimes(1);
  });

  it('a step back neither lengthens the stage nor makes its elapsed time negative', async () => {
    const clock = new FakeClock();
    const timeUp = vi.fn();
    const stage = new StageClock(clock, timeUp);
    stage.begin(10_000, true);
    await clock.advance(4_000);
    clock.jumpWall(-3_600_000);
    expect(stage.elapsed()).toBe(4_000);
    // An extension restarts the segment: it too must count the steady time, not the stepped wall time.
    stage.extend(1_000);
    await clock.advance(6_999);
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
