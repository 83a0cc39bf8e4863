// The proxy's count of requests under way (max_concurrency, /healthz, the drain's wait): slots reused, the wait
// for idle, and no promotion of finished answers. A Set here rehashed into a new table every few dozen answers, each
// old table holding its entries and a link to the next: once one table was old, every later answer was kept through
// two scavenges and promoted, ~2 KB of old-generation garbage a request (docs/benchmarks-history.md, retain20).
import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { exposedGc, oldSpaceUsed } from '../helpers/heap.js';
import { InFlight } from '../../src/proxy/in-flight.js';

const answer = (): ServerResponse => new ServerResponse(new IncomingMessage(new Socket()));

describe('InFlight', () => {
  it('counts answers in and out, reuses a freed slot, and wakes idle() when the last leaves', async () => {
    const inFlight = new InFlight();
    const a = inFlight.enter(answer());
    const b = inFlight.enter(answer());
    expect(inFlight.size).toBe(2);
    let idle = false;
    const waited = inFlight.idle().then(() => (idle = true));
    inFlight.leave(a);
    expect(inFlight.size).toBe(1);
    expect(inFlight.enter(answer())).toBe(a);
    inFlight.leave(a);
    await Promise.resolve();
    expect(idle).toBe(false);
    inFlight.leave(b);
    await waited;
    expect(inFlight.size).toBe(0);
    await inFlight.idle();
  });

  it('asks answers not begun yet to close their connection at a drain, and skips freed slots', () => {
    const inFlight = new InFlight();
    const gone = answer();
    const kept = answer();
    inFlight.leave(inFlight.enter(gone));
    inFlight.enter(kept);
    inFlight.closeConnectionsAfterAnswers();
    expect(kept.getHeader('connection')).toBe('close');
    expect(gone.getHeader('connection')).toBeUndefined();
  });

  it('lets scavenges collect finished answers once it is in the old generation', () => {
    const gc = exposedGc();
    const inFlight = new InFlight();
    // Two full GCs: its tables are old, as a proxy's are after its first mark-compacts.
    gc();
    gc();
    const before = oldSpaceUsed();
    const open: number[] = [];
    // 20,000 answers of ~1 KB, at most 32 in at once, a scavenge each 500: with the Set, old space grew 7.4 MB.
    for (let i = 0; i < 20_000; i++) {
      const res = { body: new Array<number>(100).fill(i) } as unknown as ServerResponse;
      open.push(inFlight.enter(res));
      if (open.length > 32) inFlight.leave(open.shift() as number);
      if (i % 500 === 0) gc({ type: 'minor' });
    }
    expect(oldSpaceUsed() - before).toBeLessThan(1024 * 1024);
  });
});
