// A stopping proxy's unread results, handed to the proxy started on its folder: only those served under the
// driving rollout's routes and not read yet, each adopted once however many files carry it, the file deleted once
// read past and its writer done, none written when nothing was unread, and no answer text in it.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/live/admin-client.js';
import { FeedsRead } from '../../src/live/feeds-read.js';
import { FleetProxy } from '../../src/live/fleet.js';
import { liveResumeOf, liveResumeRecord } from '../../src/live/resume-record.js';
import { HANDOVER_DIR, HandoverReader, HandoverWriter } from '../../src/proxy/handover.js';
import { ResultsFeed } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { tempDir } from '../helpers/plans.js';
import type { Clock } from '../../src/core/clock.js';

const result = (n: number, ok = true): UpstreamResult => ({
  arm: 'green',
  model: 'm',
  ok,
  content: `secret answer ${n}`,
  latencyMs: n,
  attempts: 1,
  stream: false,
});

/** A feed whose results are served under `owner.controller` (the route in force), like a proxy's. */
function feedOf(owner: { controller?: string }): ResultsFeed {
  return new ResultsFeed(100, { controller: () => owner.controller });
}

function handoverFiles(dir: string): string[] {
  const folder = path.join(dir, HANDOVER_DIR);
  return existsSync(folder) ? readdirSync(folder).filter((name) => /\.jsonl?$/.test(name)) : [];
}

/** A pid no process has (the writer was killed). */
const DEAD_PID = 2 ** 22 + 12345;

describe('handing results over to the next proxy', () => {
  it("hands over only what the driving rollout's reader did not read, served under its routes; the next proxy serves them once", async () => {
    const dir = tempDir();
    const owner: { controller?: string } = { controller: undefined };
    const old = feedOf(owner);
    old.push(result(1), 'routed', { ok: true }, undefined); // before the rollout's first route: not its own
    owner.controller = 'run-1';
    for (let n = 2; n <= 5; n++) old.push(result(n, n !== 5), 'routed', { ok: true }, 0);
    // The reader read up to 3 (it asked for those after 3, in this feed).
    old.read(3, undefined, old.epoch);
    // A reader whose cursor is in another feed says nothing of what was read here.
    old.read(5, undefined, 'another-feed');
    const writer = new HandoverWriter({ stateDir: dir, feed: old, controller: 'run-1', pid: process.pid });
    expect(await writer.finish()).toBe(true);
    const [name] = handoverFiles(dir);
    expect(name).toBe(`${old.epoch}.jsonl`);
    const text = readFileSync(path.join(dir, HANDOVER_DIR, name as string), 'utf8');
    expect(text).not.toContain('secret answer');

    const next = feedOf({ controller: 'run-1' });
    next.push(result(100), 'routed', { ok: true }, undefined);
    const reader = new HandoverReader(dir, next);
    reader.poll();
    const page = next.read(0, undefined, next.epoch);
    expect(page.results.map((e) => [e.seq, e.stage, e.result.ok, e.origin])).toEqual([
      [1, undefined, true, undefined],
      [2, 0, true, { epoch: old.epoch, seq: 4, controller: 'run-1' }],
      [3, 0, false, { epoch: old.epoch, seq: 5, controller: 'run-1' }],
    ]);
    // Polled again unchanged: nothing adopted twice. Read past and final: the file goes.
    reader.poll();
    expect(next.cursor).toBe(3);
    expect(handoverFiles(dir)).toEqual([name]);
    next.read(3, undefined, next.epoch);
    reader.poll();
    expect(handoverFiles(dir)).toEqual([]);
  });

  it("carries each result's attempt number in its origin (`sent`, the stopped process's numbering), through every proxy that stops in turn", async () => {
    const dir = tempDir();
    const old = feedOf({ controller: 'run-1' });
    old.push(result(1), 'routed', { ok: true }, 0, 41);
    old.push(result(2, false), 'routed', { ok: true }, 0, 42);
    old.push(result(3), 'routed', { ok: true }, 0);
    expect(await new HandoverWriter({ stateDir: dir, feed: old, controller: 'run-1', pid: process.pid }).finish()).toBe(true);
    const next = feedOf({ controller: 'run-1' });
    new HandoverReader(dir, next).poll();
    const page = next.read(0, undefined, next.epoch);
    // Not the entry's own `sent`, which a reader compares with the feed it reads (this one numbered none of them).
    expect(page.results.map((e) => [e.sent, e.origin])).toEqual([
      [undefined, { epoch: old.epoch, seq: 1, controller: 'run-1', sent: 41 }],
      [undefined, { epoch: old.epoch, seq: 2, controller: 'run-1', sent: 42 }],
      [undefined, { epoch: old.epoch, seq: 3, controller: 'run-1' }],
    ]);
    expect(next.unread('run-1').map((e) => e.origin.sent)).toEqual([41, 42, undefined]);
  });

  it('writes no file when nothing was unread, or nothing was served under the rollout', async () => {
    const dir = tempDir();
    const owner = { controller: 'run-1' };
    const feed = feedOf(owner);
    feed.push(result(1), 'routed', { ok: true }, 0);
    feed.read(1, undefined, feed.epoch);
    expect(await new HandoverWriter({ stateDir: dir, feed, controller: 'run-1', pid: process.pid }).finish()).toBe(true);
    owner.controller = 'operator-by-hand';
    feed.push(result(2), 'routed', { ok: true }, 0);
    expect(await new HandoverWriter({ stateDir: dir, feed, controller: 'run-1', pid: process.pid }).finish()).toBe(true);
    expect(handoverFiles(dir)).toEqual([]);
  });

  it("keeps a still-draining proxy's file until it is final, adopting what it adds; a writer that died is final", async () => {
    const dir = tempDir();
    const owner = { controller: 'run-1' };
    const old = feedOf(owner);
    old.push(result(1), 'routed', { ok: true }, 2);
    // A live process other than the reader (in a real handover, the stopped proxy still draining).
    const writer = new HandoverWriter({ stateDir: dir, feed: old, controller: 'run-1', pid: process.ppid });
    // An early write (as the drain goes on), then the replacement reads it before the last request ended.
    expect(await writer.flush()).toBe(true);
    const next = feedOf(owner);
    const reader = new HandoverReader(dir, next);
    reader.poll();
    next.read(next.cursor, undefined, next.epoch);
    reader.poll();
    // Read past but not final, its writer alive: it may write more, so it stays.
    expect(handoverFiles(dir)).toHaveLength(1);
    old.push(result(2, false), 'routed', { ok: true }, 2);
    await writer.finish();
    reader.poll();
    expect(next.read(1, undefined, next.epoch).results.map((e) => e.origin?.seq)).toEqual([2]);
    next.read(next.cursor, undefined, next.epoch);
    reader.poll();
    expect(handoverFiles(dir)).toEqual([]);

    // A writer killed (kill -9) mid-drain: its last file is all there is, deleted once read past.
    const killed = path.join(dir, HANDOVER_DIR, `${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}.json`);
    const entry = { stage: 1, kind: 'routed', result: result(7, false), quality: { ok: true }, origin: { epoch: 'e-killed', seq: 7, controller: 'run-1' } };
    writeFileSync(killed, JSON.stringify({ epoch: 'e-killed', pid: DEAD_PID, final: false, results: [entry] }));
    reader.poll();
    expect(next.read(next.cursor - 1, undefined, next.epoch).results.map((e) => e.origin?.epoch)).toEqual(['e-killed']);
    next.read(next.cursor, undefined, next.epoch);
    reader.poll();
    expect(existsSync(killed)).toBe(false);
  });

  it('serves a result two files carry once (a replacement that stopped in turn), and leaves a file it cannot read alone', async () => {
    const dir = tempDir();
    const owner = { controller: 'run-1' };
    const first = feedOf(owner);
    for (let n = 1; n <= 3; n++) first.push(result(n), 'routed', { ok: true }, 0);
    // The second proxy adopted the first's file and stopped before its reader read any of it.
    const second = feedOf(owner);
    const firstFile = new HandoverWriter({ stateDir: dir, feed: first, controller: 'run-1', pid: DEAD_PID });
    await firstFile.finish();
    const secondReader = new HandoverReader(dir, second);
    secondReader.poll();
    second.push(result(4), 'routed', { ok: true }, 0);
    expect(await new HandoverWriter({ stateDir: dir, feed: second, controller: 'run-1', pid: process.pid }).finish()).toBe(true);
    // Its own file holds what it adopted: its release may delete the first one, but a copy of it stays here.
    const copy = readFileSync(path.join(dir, HANDOVER_DIR, `${first.epoch}.jsonl`), 'utf8');
    secondReader.release();
    expect(handoverFiles(dir)).toEqual([`${second.epoch}.jsonl`]);
    writeFileSync(path.join(dir, HANDOVER_DIR, `${first.epoch}.jsonl`), copy);
    mkdirSync(path.join(dir, HANDOVER_DIR), { recursive: true });
    const foreign = path.join(dir, HANDOVER_DIR, `${'1'.repeat(8)}-1111-4111-8111-${'1'.repeat(12)}.json`);
    writeFileSync(foreign, '{"not": "a handover"}');

    const third = feedOf(owner);
    const notices: string[] = [];
    new HandoverReader(dir, third, (m) => notices.push(m)).poll();
    const origins = third.read(0, undefined, third.epoch).results.map((e) => `${e.origin?.epoch === first.epoch ? 'first' : 'second'}:${e.origin?.seq}`);
    expect(origins.sort()).toEqual(['first:1', 'first:2', 'first:3', 'second:4']);
    expect(notices).toEqual([`${foreign} is not a handover of a stopped proxy's results this proxy can read: left alone`]);
    expect(existsSync(foreign)).toBe(true);
  });
});

describe("the rollout's reader of handed-over results", () => {
  const clock = { now: () => 0 } as unknown as Clock;

  it("takes each origin once, only this rollout's, and none it read from the stopped proxy itself", () => {
    const proxy = new FleetProxy(new AdminClient({ url: 'http://127.0.0.1:1', token: 't' }), clock, 'run-1');
    proxy.epoch = 'old';
    proxy.cursor = 5;
    proxy.restarted();
    expect(proxy.cursor).toBe(0);
    const handed = (epoch: string, seq: number, controller = 'run-1') => ({ origin: { epoch, seq, controller } });
    expect(proxy.takes({})).toBe(true);
    // Read from the old proxy before it stopped (up to 5): not again.
    expect(proxy.takes(handed('old', 5))).toBe(false);
    expect(proxy.takes(handed('old', 6))).toBe(true);
    expect(proxy.takes(handed('old', 6))).toBe(false);
    // Another rollout's results (a file left from before this one): never.
    expect(proxy.takes(handed('old', 7, 'run-0'))).toBe(false);
    // A proxy this rollout never read (started and stopped between two reads): all of its own.
    expect(proxy.takes(handed('never-read', 1))).toBe(true);
  });
});

describe("what state.json keeps for a resumed rollout's reader", () => {
  it('is read leniently: a hand-edited record keeps only well-formed ids and positions, an older state.json has none', () => {
    expect(liveResumeOf({ version: 1 })).toBeUndefined();
    expect(liveResumeOf({ liveResume: { controllers: 'run-1', read: {} } })).toBeUndefined();
    expect(liveResumeOf({ liveResume: { controllers: ['run-0', 7, '', 'x'.repeat(101), 'run-1'], read: { a: 3, b: -1, c: 1.5, d: '4', e: 0 } } })).toEqual({
      controllers: ['run-0', 'run-1'],
      read: { a: 3, e: 0 },
    });
  });

  it("starts the resumed run's feeds where the dead run's figures end, and keeps every run's id", () => {
    const dead = new FeedsRead({ old: 5 });
    const proxy = new FleetProxy(
      new AdminClient({ url: 'http://127.0.0.1:1', token: 't' }),
      { now: () => 0 } as unknown as Clock,
      'run-2',
      dead,
      new Set(['run-1']),
    );
    const handed = (seq: number, controller: string) => ({ origin: { epoch: 'old', seq, controller } });
    expect(proxy.takes(handed(5, 'run-1'))).toBe(false);
    expect(proxy.takes(handed(6, 'run-1'))).toBe(true);
    expect(proxy.takes(handed(7, 'run-2'))).toBe(true);
    expect(proxy.takes(handed(8, 'run-0'))).toBe(false);
    proxy.epoch = 'new';
    proxy.cursor = 9;
    expect(dead.positions()).toEqual({ old: 7, new: 9 });
    expect(liveResumeRecord(['run-1'], 'run-2', dead.positions(), [])).toEqual({ controllers: ['run-1', 'run-2'], read: { old: 7, new: 9 }, proxies: [] });
    const many = Array.from({ length: 20 }, (_, i) => `run-${i}`);
    expect(liveResumeRecord(many, 'last', {}, []).controllers).toEqual([...many.slice(-15), 'last']);
  });
});

describe('an older rollout reading a newer proxy', () => {
  it('counts its epoch-less cursor as read (so what it read is not handed over to be judged twice), unless a reader says its feed', () => {
    const owner = { controller: 'run-1' };
    const feed = feedOf(owner);
    for (let n = 1; n <= 4; n++) feed.push(result(n), 'routed', { ok: true }, 0);
    // An older rollout: reads from its cursor, never says the feed.
    feed.read(0);
    feed.read(3);
    expect(feed.readByOlderReader).toBe(true);
    expect(feed.unread('run-1').map((e) => e.origin.seq)).toEqual([4]);
    // A rollout that says its feed: only what it says counts (a tool polling by hand hides nothing).
    const newer = feedOf(owner);
    for (let n = 1; n <= 4; n++) newer.push(result(n), 'routed', { ok: true }, 0);
    newer.read(1, undefined, newer.epoch);
    newer.read(4);
    expect(newer.readByOlderReader).toBe(false);
    expect(newer.unread('run-1').map((e) => e.origin.seq)).toEqual([2, 3, 4]);
  });
});
