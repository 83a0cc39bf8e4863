// OverdueWatch on a fake clock: green requests running past the latency limit, reported as they cross it.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { exposedGc, oldSpaceUsed } from '../helpers/heap.js';
import { OverdueWatch } from '../../src/engine/overdue.js';

function setup(limitMs = 2000, minGapMs = 100) {
  const clock = new FakeClock();
  const reports: number[] = [];
  const start = clock.now();
  const watch = new OverdueWatch({ clock, limitMs, minGapMs, onOverdue: () => reports.push(clock.now() - start) });
  return { clock, watch, reports };
}

describe('OverdueWatch', () => {
  it('reports a request as soon as it runs past the limit, and not one that ended in time', async () => {
    const { clock, watch, reports } = setup();
    const quick = watch.started(0);
    await clock.advance(500);
    watch.started(0);
    await clock.advance(1_000);
    watch.ended(quick);
    await clock.advance(1_000);
    expect(reports).toEqual([]);
    await clock.advance(1);
    // Sent at 500 ms, over 2,000 ms at 2,501 ms.
    expect(reports).toEqual([2_501]);
    await clock.advance(10_000);
    expect(reports).toEqual([2_501]);
  });

  it("gives the ages of a stage's requests started up to a mark only (a stage's end judges those sent before its time was up)", async () => {
    const { clock, watch } = setup();
    watch.started(0);
    await clock.advance(1_000);
    const upTo = watch.lastStarted;
    watch.started(0);
    watch.started(1);
    await clock.advance(500);
    expect(watch.agesOver(0, 0)).toEqual([1_500, 500]);
    expect(watch.agesOver(0, 0, upTo)).toEqual([1_500]);
  });

  it('reports crossings no more often than the minimum gap', async () => {
    const { clock, watch, reports } = setup(2000, 100);
    for (let i = 0; i < 50; i++) {
      watch.started(0);
      await clock.advance(10);
    }
    await clock.advance(3_000);
    // 50 requests crossing over 500 ms: reported at 2,001 ms and then every 100 ms while more cross.
    expect(reports).toEqual([2_001, 2_101, 2_201, 2_301, 2_401, 2_501]);
  });

  it('gives the ages of the stage requests running longer than asked, oldest first', async () => {
    const { clock, watch } = setup();
    watch.started(0);
    await clock.advance(1_000);
    watch.started(1);
    await clock.advance(1_000);
    const young = watch.started(1);
    await clock.advance(1_500);
    expect(watch.agesOver(1_000, 1)).toEqual([2_500, 1_500]);
    expect(watch.agesOver(1_000, 0)).toEqual([3_500]);
    expect(watch.agesOver(2_000, 1)).toEqual([2_500]);
    watch.ended(young);
    expect(watch.agesOver(0, 1)).toEqual([2_500]);
  });

  it('measures ages on the steady clock, whatever the wall clock does', async () => {
    const { clock, watch, reports } = setup();
    watch.started(0);
    await clock.advance(500);
    // NTP steps the wall clock a minute forward: the request is 500 ms old, not a minute (a p95 of 60 s, a breach).
    clock.jumpWall(60_000);
    expect(watch.agesOver(0, 0)).toEqual([500]);
    // And an hour back: it still crosses the 2,000 ms limit 2,001 ms after it was sent, not an hour later.
    clock.jumpWall(-3_600_000);
    await clock.advance(1_501);
    expect(reports).toHaveLength(1);
    expect(watch.agesOver(2_000, 0)).toEqual([2_001]);
  });

  it('stops reporting once stopped', async () => {
    const { clock, watch, reports } = setup();
    watch.started(0);
    watch.stop();
    watch.started(0);
    await clock.advance(5_000);
    expect(reports).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('lets scavenges collect ended requests once its table is in the old generation', () => {
    // A Map here rehashed into a new table every few dozen requests, each old table keeping its entries: once one
    // was old, every later request's entry was promoted (~100 B a request, alloc21).
    const gc = exposedGc();
    const { watch } = setup();
    const open = [watch.started(0)];
    // Two full GCs: the table is old, as a rollout's is after its first mark-compacts.
    gc();
    gc();
    const before = oldSpaceUsed();
    // 50,000 green requests, at most 32 running at once, a scavenge each 500.
    for (let i = 0; i < 50_000; i++) {
      open.push(watch.started(0));
      if (open.length > 32) watch.ended(open.shift() as number);
      if (i % 500 === 0) gc({ type: 'minor' });
    }
    expect(oldSpaceUsed() - before).toBeLessThan(1024 * 1024);
  });
});
