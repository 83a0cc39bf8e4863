// Review of the stopped proxy's handover (src/proxy/handover.ts, src/live/fleet.ts, drain12). Each `it.fails`
// shows a defect still open: it passes once the defect is fixed.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { AdminClient } from '../../src/live/admin-client.js';
import { FeedsRead } from '../../src/live/feeds-read.js';
import { FleetProxy } from '../../src/live/fleet.js';
import { HANDOVER_DIR, HandoverReader, HandoverWriter } from '../../src/proxy/handover.js';
import { ResultsFeed } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { tempDir } from '../helpers/plans.js';

const result = (n: number, ok = true): UpstreamResult => ({ arm: 'green', model: 'm', ok, content: '', latencyMs: n, attempts: 1, stream: false });

/** A feed whose results are served under `controller`'s route, like a proxy's. */
const feedOf = (controller: string): ResultsFeed => new ResultsFeed(100, { controller: () => controller });

/** A pid no process has: the writer has exited. */
const DEAD_PID = 2 ** 22 + 12345;

/** The numbers, in `feed`, of the results it serves for the stopped proxy whose feed is `epoch`. */
const servedFrom = (feed: ResultsFeed, epoch: string): (number | undefined)[] =>
  feed
    .read(0, undefined, feed.epoch)
    .results.filter((entry) => entry.origin?.epoch === epoch)
    .map((entry) => entry.origin?.seq);

describe('review12: handover files', () => {
  // server.ts close(): `handingOver.finish()` then `handovers.release()`. release() trusts what the replacement
  // loaded at its last poll: a file its writer rewrote since (its last write, the hanging request's failure) is
  // deleted once that writer has exited, and the replacement's own handover holds only what it had adopted.
  // Sequence: proxy 1 stops while a green request hangs; proxy 2 starts and adopts proxy 1's early write; the
  // request times out, proxy 1 writes its final file and exits; proxy 2 is stopped before the rollout's next read.
  it("keeps a stopped proxy's last write that its replacement never adopted when the replacement stops in turn", async () => {
    const dir = tempDir();
    const first = feedOf('run-1');
    first.push(result(1), 'routed', { ok: true }, 0);
    const firstWriter = new HandoverWriter({ stateDir: dir, feed: first, controller: 'run-1', pid: DEAD_PID });
    // An early write while it drains (HANDOVER_WRITE_MS after a result).
    expect(await firstWriter.flush()).toBe(true);
    const second = feedOf('run-1');
    const secondReader = new HandoverReader(dir, second);
    secondReader.poll();
    expect(servedFrom(second, first.epoch)).toEqual([1]);
    // The hanging request ends (green's timeout): the first proxy's last write; then it exits.
    first.push(result(2, false), 'routed', { ok: true }, 0);
    expect(await firstWriter.finish()).toBe(true);
    // The second proxy stops before anyone read its feed again (no poll since).
    expect(await new HandoverWriter({ stateDir: dir, feed: second, controller: 'run-1', pid: process.pid }).finish()).toBe(true);
    secondReader.release();
    // The proxy started next serves the first proxy's results 1 and 2: the timeout is not lost.
    const third = feedOf('run-1');
    new HandoverReader(dir, third).poll();
    expect(servedFrom(third, first.epoch)).toEqual([1, 2]);
  });

  // handover.ts finished(): `loaded.final || !isPidAlive(loaded.pid)`. In a container every proxy is pid 1 (and on
  // a folder moved to another host the pid means nothing here), so the file of a proxy killed mid-drain (docker
  // stop's SIGKILL after 10 s, under a 25 s drain_timeout) names a pid that is alive: the replacement itself. It is
  // never deleted, and every proxy started on the folder adopts it again. A file of another feed can never have
  // been written by this very process.
  it("deletes, once read past, a non-final file whose writer's pid is the reader's own (a container's pid 1)", () => {
    const dir = tempDir();
    const folder = path.join(dir, HANDOVER_DIR);
    const killed = path.join(folder, '22222222-2222-4222-8222-222222222222.json');
    const entry = { stage: 0, kind: 'routed', result: result(7, false), quality: { ok: true }, origin: { epoch: 'e-killed', seq: 7, controller: 'run-1' } };
    const next = feedOf('run-1');
    const reader = new HandoverReader(dir, next);
    // Written by the killed proxy, whose pid was the same as this one's.
    mkdirSync(folder, { recursive: true });
    writeFileSync(killed, JSON.stringify({ epoch: 'e-killed', pid: process.pid, final: false, results: [entry] }));
    reader.poll();
    expect(servedFrom(next, 'e-killed')).toEqual([7]);
    next.read(next.cursor, undefined, next.epoch);
    reader.poll();
    expect(existsSync(killed)).toBe(false);
  });
});

describe("review12: the rollout's reader of handed-over results, across a fleet", () => {
  const clock = { now: () => 0 } as unknown as Clock;
  const handed = (seq: number) => ({ origin: { epoch: 'feed-a', seq, controller: 'run-1' } });

  // FleetProxy.pastFeeds is per proxy. Two fleet proxies on one state folder (which the docs forbid, but
  // refuseRunningProxy lets through in containers: discovery.ts:57 `info.pid === self`, every replica being pid 1,
  // or on a network folder across hosts) both adopt proxy A's handover file: proxy B's reader takes A's results
  // the rollout had already read from A (its last page, 4 and 5), and A's replacement takes 6 again.
  it('takes each handed-over result once across the fleet, however many of its proxies serve it', () => {
    const fleet = new FeedsRead();
    const a = new FleetProxy(new AdminClient({ url: 'http://127.0.0.1:1', token: 't' }), clock, 'run-1', fleet);
    const b = new FleetProxy(new AdminClient({ url: 'http://127.0.0.1:2', token: 't' }), clock, 'run-1', fleet);
    // The rollout read A's feed up to 5 (its last read asked for those after 3: A hands over 4, 5 and 6).
    a.epoch = 'feed-a';
    a.cursor = 5;
    b.epoch = 'feed-b';
    b.cursor = 10;
    const takenViaB = [4, 5, 6].filter((seq) => b.takes(handed(seq)));
    a.restarted();
    const takenViaA = [4, 5, 6].filter((seq) => a.takes(handed(seq)));
    expect([...takenViaB, ...takenViaA]).toEqual([6]);
  });
});
