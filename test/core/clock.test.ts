import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSystemClock, MAX_TIMER_CHUNK_MS, sleep } from '../../src/core/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('the system clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits out a timer longer than setTimeout can hold, in chunks, and never fires early', () => {
    vi.useFakeTimers();
    const clock = createSystemClock();
    const fired = vi.fn();
    const sixHundredHours = 600 * 3_600_000;
    clock.setTimer(fired, sixHundredHours);
    vi.advanceTimersByTime(MAX_TIMER_CHUNK_MS + 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(sixHundredHours - MAX_TIMER_CHUNK_MS - 2);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('cancels a chunked timer between chunks', () => {
    vi.useFakeTimers();
    const clock = createSystemClock();
    const fired = vi.fn();
    const handle = clock.setTimer(fired, 3 * MAX_TIMER_CHUNK_MS);
    vi.advanceTimersByTime(MAX_TIMER_CHUNK_MS + 10);
    handle.cancel();
    vi.advanceTimersByTime(3 * MAX_TIMER_CHUNK_MS);
    expect(fired).not.toHaveBeenCalled();
  });
});

describe('sleep', () => {
  it('resolves when the clock reaches the time', async () => {
    const clock = new FakeClock();
    let done = false;
    void sleep(clock, 1000).then(() => (done = true));
    await clock.advance(999);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
  });

  it('rejects with the abort reason at once', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const waiting = sleep(clock, 60_000, controller.signal);
    controller.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
    expect(clock.pendingTimers()).toBe(0);
  });
});
