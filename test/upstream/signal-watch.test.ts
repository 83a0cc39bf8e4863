// The requests watching a shared AbortSignal (the engine's shutdown, the proxy's for its mirror copies): cancelled
// once each on abort, forgotten when they end, and no promotion of ended requests. A Set here rehashed into a new
// table every few dozen requests, each old table holding its entries and a link to the next: once one table was
// old, every later request was kept through two scavenges and promoted whole (docs/benchmarks-history.md, alloc21).
import { describe, expect, it } from 'vitest';
import { exposedGc, oldSpaceUsed } from '../helpers/heap.js';
import { SignalWatch, type Cancellable } from '../../src/upstream/signal-watch.js';

describe('signal watch', () => {
  it('cancels each request still watched, once, with the reason, and not those that ended', () => {
    const controller = new AbortController();
    const watched = new SignalWatch(controller.signal);
    const cancelled: string[] = [];
    const member = (name: string): Cancellable => ({ cancel: (reason) => cancelled.push(`${name}: ${String(reason)}`) });
    const ended = watched.watch(member('ended'));
    watched.watch(member('a'));
    watched.unwatch(ended);
    // The ended request's slot is reused.
    expect(watched.watch(member('b'))).toBe(ended);
    controller.abort('stopping');
    controller.abort('again');
    expect(cancelled.sort()).toEqual(['a: stopping', 'b: stopping']);
  });

  it('lets scavenges collect ended requests once its table is in the old generation', () => {
    const gc = exposedGc();
    const watched = new SignalWatch(new AbortController().signal);
    const open: number[] = [];
    open.push(watched.watch({ cancel: () => undefined }));
    // Two full GCs: the signal's table is old, as a proxy's or an engine's is after its first mark-compacts.
    gc();
    gc();
    const before = oldSpaceUsed();
    // 20,000 requests of ~1 KB, at most 32 watched at once, a scavenge each 500: with a Set, old space grew ~7 MB.
    for (let i = 0; i < 20_000; i++) {
      const request: Cancellable & { body: number[] } = { body: new Array<number>(100).fill(i), cancel: () => undefined };
      open.push(watched.watch(request));
      if (open.length > 32) watched.unwatch(open.shift() as number);
      if (i % 500 === 0) gc({ type: 'minor' });
    }
    expect(oldSpaceUsed() - before).toBeLessThan(1024 * 1024);
  });
});
