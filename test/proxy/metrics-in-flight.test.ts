// The proxy's attempts under way by stage (GET /admin/results `inFlight`, what a stage's end waits for): counted in
// and out once each, up to an attempt number, and without promoting their tables. A Map of them (and a Set of the
// figure sets with any) rehashed into a new table every few dozen attempts, each old table linking to the next:
// once one was old, every later one was promoted, ~57 B of old-generation garbage an attempt (docs/benchmarks-history.md,
// session 21).
import { describe, expect, it } from 'vitest';
import { exposedGc, oldSpaceUsed } from '../helpers/heap.js';
import { ProxyMetrics } from '../../src/proxy/metrics.js';

const metrics = (): ProxyMetrics =>
  new ProxyMetrics({ prices: { blue: undefined, green: undefined }, quality: () => ({ ok: true }), now: Date.now, steadyNow: () => 0 });

describe('ProxyMetrics attempts under way', () => {
  it('counts attempts by the stage they started in, up to a number, each ended once, green’s streamed ones apart', () => {
    const figures = metrics();
    figures.startStage(0);
    const first = figures.started('blue', false);
    const second = figures.started('green', false);
    figures.startStage(1);
    const third = figures.started('green', true);
    expect(figures.inFlightByStage()).toEqual({
      started: 3,
      stages: [
        { stage: 0, requests: 2, green: 1, greenStreamed: 0 },
        { stage: 1, requests: 1, green: 1, greenStreamed: 1 },
      ],
      // Each arm's sends per stage (the p95 ratio's sent-before bounds): each attempt runs, begun just now.
      blueSent: [
        { stage: 0, sends: 1, exact: true, sentAtLeast: [], running: [1] },
        { stage: 1, sends: 0, exact: true, sentAtLeast: [], running: [] },
      ],
      greenSent: [
        { stage: 0, sends: 1, exact: true, sentAtLeast: [], running: [1] },
        { stage: 1, sends: 1, exact: true, sentAtLeast: [], running: [1] },
      ],
    });
    expect(figures.inFlightByStage(1).stages).toEqual([{ stage: 0, requests: 1, green: 0, greenStreamed: 0 }]);
    // Up to a number, every attempt under way is said too (a rollout's arms count them all as in flight).
    expect(figures.inFlightByStage(1).all).toEqual(figures.inFlightByStage().stages);
    figures.abandon(second);
    // A second end of the same attempt changes nothing, even once its slot holds another attempt.
    const fourth = figures.started('blue', false, first);
    figures.abandon(second);
    expect(figures.inFlightOf('green')).toBe(1);
    expect(figures.inFlightByStage().stages).toEqual([
      { stage: 0, requests: 2, green: 0, greenStreamed: 0 },
      { stage: 1, requests: 1, green: 1, greenStreamed: 1 },
    ]);
    figures.abandon(first);
    figures.abandon(fourth);
    expect(figures.inFlightByStage().stages).toEqual([{ stage: 1, requests: 1, green: 1, greenStreamed: 1 }]);
    figures.abandon(third);
    // The stage in force is reported with nothing under way; its green attempt ended with no result (abandoned).
    expect(figures.inFlightByStage()).toEqual({
      started: 4,
      stages: [],
      blueSent: [{ stage: 1, sends: 0, exact: true, sentAtLeast: [], running: [] }],
      greenSent: [{ stage: 1, sends: 1, exact: false, sentAtLeast: [], running: [] }],
    });
    expect(figures.inFlightOf('blue') + figures.inFlightOf('green')).toBe(0);
  });

  it('lets scavenges collect ended attempts once it is in the old generation', () => {
    const gc = exposedGc();
    const figures = metrics();
    figures.startStage(0);
    // Two full GCs: its tables are old, as a proxy's are after its first mark-compacts.
    gc();
    gc();
    const before = oldSpaceUsed();
    const open = [];
    // 100,000 attempts, at most 32 under way, a scavenge each 500: with the Map and the Set, old space grew ~5.5 MB.
    for (let i = 0; i < 100_000; i++) {
      open.push(figures.started('blue', false));
      if (open.length > 32) figures.abandon(open.shift() as ReturnType<ProxyMetrics['started']>);
      if (i % 500 === 0) gc({ type: 'minor' });
    }
    expect(oldSpaceUsed() - before).toBeLessThan(1024 * 1024);
  });
});
