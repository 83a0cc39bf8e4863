// The results feed: in order, paged from a cursor, bounded, and honest about what a slow reader missed.
import { describe, expect, it } from 'vitest';
import { ResultsFeed } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';

const result = (n: number): UpstreamResult =>
  ({ arm: n % 2 ? 'green' : 'blue', model: 'm', ok: true, content: `answer ${n}`, latencyMs: n, attempts: 1 }) as UpstreamResult;

describe('ResultsFeed', () => {
  it('pages results after a cursor, oldest first, tagged with stage and kind, without the answer text', () => {
    const feed = new ResultsFeed(10);
    for (let n = 1; n <= 4; n++)
      feed.push(result(n), n === 4 ? 'fallback' : 'routed', { ok: n !== 2, reason: n === 2 ? 'too short' : undefined }, n > 2 ? 1 : undefined);
    const page = feed.read(1);
    expect(page.next).toBe(4);
    expect(page.missed).toBe(0);
    expect(page.results.map((e) => [e.seq, e.stage, e.kind, e.quality.ok, e.result.latencyMs, e.result.content])).toEqual([
      [2, undefined, 'routed', false, 2, ''],
      [3, 1, 'routed', true, 3, ''],
      [4, 1, 'fallback', true, 4, ''],
    ]);
    expect(feed.read(4)).toEqual({ next: 4, missed: 0, head: 4, results: [] });
  });

  it('keeps the last `capacity` results and counts what a late reader missed', () => {
    const feed = new ResultsFeed(5);
    for (let n = 1; n <= 12; n++) feed.push(result(n), 'routed', { ok: true }, 0);
    const page = feed.read(0);
    expect(page.missed).toBe(7);
    expect(page.results.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(page.next).toBe(12);
  });

  it('pages at the limit asked for', () => {
    const feed = new ResultsFeed(100);
    for (let n = 1; n <= 30; n++) feed.push(result(n), 'mirror', { ok: true }, 0);
    const first = feed.read(0, 10);
    expect(first.results.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(feed.read(first.next, 10).results[0]?.seq).toBe(11);
  });

  // A cursor past the newest result answered `next: after`: a reader passing it back skipped every result up to it,
  // and an older reader's (no epoch) counted them all as read, so a stopping proxy did not hand them over.
  it("reads a cursor that is not this feed's (past its newest result, or another epoch said) from the start", () => {
    const feed = new ResultsFeed(10, { epoch: 'new-feed' });
    for (let n = 1; n <= 4; n++) feed.push(result(n), 'routed', { ok: true }, 0);
    const ahead = feed.read(7);
    expect(ahead.results.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect([ahead.next, ahead.head, ahead.missed]).toEqual([4, 4, 0]);
    expect(feed.readPast).toBe(0);
    expect(feed.read(9, 10, 'new-feed').results.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(feed.read(2, 10, 'old-feed').results.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(feed.readPast).toBe(0);
    // This feed's own cursor still counts as read.
    expect(feed.read(3, 10, 'new-feed').results.map((e) => e.seq)).toEqual([4]);
    expect(feed.readPast).toBe(3);
  });
});
