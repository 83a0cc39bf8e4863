// The request timers of the requests a proxy starts in one turn of its loop are armed together, from one immediate
// (src/upstream/dispatch.ts RequestTimerBatch). The timers' own firing is tested through the proxy (stream-timeouts,
// responses-review-timeouts, first-event).
import { describe, expect, it } from 'vitest';
import { RequestTimerBatch } from '../../src/upstream/dispatch.js';

describe('RequestTimerBatch', () => {
  it('arms each dispatch added in a turn once, after the turn, and those of a later turn after theirs', async () => {
    const batch = new RequestTimerBatch();
    const armed: string[] = [];
    const dispatch = (name: string) => ({ armRequestTimer: () => armed.push(name) });
    batch.add(dispatch('a'));
    batch.add(dispatch('b'));
    batch.add(dispatch('c'));
    expect(armed).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(armed).toEqual(['a', 'b', 'c']);
    batch.add(dispatch('d'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(armed).toEqual(['a', 'b', 'c', 'd']);
  });
});
