// The proxy keeps Node's timer list of each duration its requests' timers use (src/proxy/timer-lists.ts): one
// interval a distinct duration, none for a duration Node would not keep as given, all gone when it stops.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keepTimerLists } from '../../src/proxy/timer-lists.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('keepTimerLists', () => {
  it('keeps one interval a distinct duration until stopped', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const stop = keepTimerLists([30_000, 30_000, 300_000, 0, 2 ** 31, Infinity]);
    expect(vi.getTimerCount()).toBe(2);
    // Each fires once a duration and does nothing.
    vi.advanceTimersByTime(300_000);
    expect(vi.getTimerCount()).toBe(2);
    stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
