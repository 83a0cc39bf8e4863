// The request timers of the requests a proxy starts in one turn of its loop are armed together, from one immediate,
// as one Node timer for each duration among them (src/upstream/dispatch.ts RequestTimerBatch, TimerGroup). The
// timers' firing through a whole proxy is tested in stream-timeouts, responses-review-timeouts and first-event.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestTimerBatch, type BatchedTimer, type TimerGroup } from '../../src/upstream/dispatch.js';

/** A dispatch as the batch sees it: `ms` its request timer (undefined: none needed), `expired` once its group ran out. */
class FakeDispatch implements BatchedTimer {
  expired = false;
  group?: TimerGroup;
  slot = -1;

  constructor(private readonly ms: number | undefined) {}

  requestTimerMs(): number | undefined {
    return this.ms;
  }

  joinTimerGroup(group: TimerGroup, slot: number): void {
    this.group = group;
    this.slot = slot;
  }

  groupExpired(): void {
    this.expired = true;
  }

  /** Its request is over: it leaves its group. */
  end(): void {
    this.group?.leave(this.slot);
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RequestTimerBatch', () => {
  it('arms the dispatches added in a turn after it, one timer a duration, and expires those still running when it runs out', async () => {
    const batch = new RequestTimerBatch();
    const [a, b, c, other, none] = [
      new FakeDispatch(1000),
      new FakeDispatch(1000),
      new FakeDispatch(1000),
      new FakeDispatch(3000),
      new FakeDispatch(undefined),
    ];
    for (const dispatch of [a, b, c, other, none]) batch.add(dispatch);
    expect(a.group).toBeUndefined();
    await turn();
    expect(vi.getTimerCount()).toBe(2);
    expect(a.group).toBe(b.group);
    expect(other.group).not.toBe(a.group);
    expect(none.group).toBeUndefined();
    b.end();
    vi.advanceTimersByTime(999);
    expect([a.expired, c.expired]).toEqual([false, false]);
    vi.advanceTimersByTime(1);
    expect([a.expired, b.expired, c.expired, other.expired]).toEqual([true, false, true, false]);
    vi.advanceTimersByTime(2000);
    expect(other.expired).toBe(true);
  });

  it('clears a group timer once every member has left, and batches a later turn on its own', async () => {
    const batch = new RequestTimerBatch();
    const [a, b] = [new FakeDispatch(1000), new FakeDispatch(1000)];
    batch.add(a);
    batch.add(b);
    await turn();
    a.end();
    expect(vi.getTimerCount()).toBe(1);
    b.end();
    expect(vi.getTimerCount()).toBe(0);
    const later = new FakeDispatch(1000);
    batch.add(later);
    await turn();
    expect(later.group).toBeDefined();
    expect(later.group).not.toBe(a.group);
    vi.advanceTimersByTime(1000);
    expect([a.expired, b.expired, later.expired]).toEqual([false, false, true]);
  });
});
