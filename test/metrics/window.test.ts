import { describe, expect, it } from 'vitest';
import { RollingWindow } from '../../src/metrics/index.js';
import { manualClock } from './helpers.js';

const T0 = 1_700_000_000_000; // a whole second

describe('RollingWindow', () => {
  it('is empty at first', () => {
    const clock = manualClock(T0);
    const window = new RollingWindow(10, clock.now, T0);
    expect(window.stats()).toEqual({ seconds: 10, requestsPerSecond: 0, errorRate: 0, latencyP95: null });
  });

  it('gives rate, error rate and p95 over the last seconds', () => {
    const clock = manualClock(T0);
    const window = new RollingWindow(10, clock.now, T0);
    // 10 s of 20 requests a second, one failure in each second.
    for (let second = 0; second < 10; second++) {
      clock.set(T0 + second * 1000);
      for (let i = 0; i < 20; i++) window.record(i < 19 ? 100 : 1000, i === 0);
    }
    clock.set(T0 + 9999);
    const stats = window.stats();
    expect(stats.requestsPerSecond).toBeCloseTo(20, 1);
    expect(stats.errorRate).toBeCloseTo(0.05, 10);
    // 19 of 20 at 100 ms: the p95 sits at the top of the distribution's 100 ms mass, within 2 digits.
    expect(stats.latencyP95).toBeGreaterThanOrEqual(100);
    expect(stats.latencyP95).toBeLessThan(101);
  });

  it('drops seconds that fell out of the window', () => {
    const clock = manualClock(T0);
    const window = new RollingWindow(5, clock.now, T0);
    for (let i = 0; i < 10; i++) window.record(50, true); // second 0: all failures
    clock.set(T0 + 3000);
    for (let i = 0; i < 10; i++) window.record(5, false); // second 3: all fine
    clock.set(T0 + 4500);
    expect(window.stats().errorRate).toBe(0.5);
    clock.set(T0 + 5000); // second 0 is now 5 seconds old: out
    const later = window.stats();
    expect(later.errorRate).toBe(0);
    expect(later.requestsPerSecond).toBeCloseTo(10 / 4, 5);
    expect(later.latencyP95).toBeCloseTo(5, 1);
    clock.set(T0 + 9000);
    expect(window.stats()).toMatchObject({ requestsPerSecond: 0, errorRate: 0, latencyP95: null });
  });

  it('reuses a ring slot for a new second without mixing in the old one', () => {
    const clock = manualClock(T0);
    const window = new RollingWindow(2, clock.now, T0);
    window.record(1000, true);
    clock.set(T0 + 2000); // same slot as second 0
    window.record(10, false);
    const stats = window.stats();
    expect(stats.errorRate).toBe(0);
    expect(stats.latencyP95).toBeCloseTo(10, 1);
  });

  it('divides early rates by the time elapsed, at least one second', () => {
    const clock = manualClock(T0);
    const window = new RollingWindow(10, clock.now, T0);
    for (let i = 0; i < 30; i++) window.record(10, false);
    clock.set(T0 + 100);
    expect(window.stats().requestsPerSecond).toBe(30);
    clock.set(T0 + 3000);
    expect(window.stats().requestsPerSecond).toBe(10);
  });

  it('refuses a window that is not a whole number of seconds', () => {
    expect(() => new RollingWindow(0, () => 0, 0)).toThrow(RangeError);
    expect(() => new RollingWindow(1.5, () => 0, 0)).toThrow(RangeError);
  });
});
