// The handover file as lines (session 14): appended in batches as a stopping proxy's requests end, read by its
// replacement from where it left off, a torn last line waited for (and given up once its writer is gone), the
// final line, the previous version's whole-file .json still read, the cap, and when each file is deleted.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProcStat } from '../../src/core/proc-stat.js';
import { HANDOVER_DIR, HANDOVER_WRITE_MS, HandoverReader, HandoverWriter } from '../../src/proxy/handover.js';
import { ResultsFeed } from '../../src/proxy/results-feed.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';

const result = (n: number, ok = true): UpstreamResult => ({ arm: 'green', model: 'm', ok, content: `answer ${n}`, latencyMs: n, attempts: 1, stream: false });

/** A feed whose results are served under run-1's routes, like a proxy's. */
function feedOf(capacity = 100): ResultsFeed {
  return new ResultsFeed(capacity, { controller: () => 'run-1' });
}

function push(feed: ResultsFeed, count: number): void {
  for (let n = 0; n < count; n++) feed.push(result(feed.cursor + 1, n % 2 === 0), 'routed', { ok: true }, 1);
}

/** A pid no process has (the writer has exited); a live process that is not this one (a writer still draining). */
const DEAD_PID = 2 ** 22 + 12345;
const LIVE_PID = process.ppid;

/** A file name as a feed's epoch makes it. */
const uuid = (c: string): string => `${c.repeat(8)}-${c.repeat(4)}-4${c.repeat(3)}-8${c.repeat(3)}-${c.repeat(12)}`;

/** Handed-over results as a writer puts them in lines. */
const header = (epoch: string, pid: number, identity: { pidStart?: string; bootId?: string } = {}): string =>
  `${JSON.stringify({ handover: 1, epoch, pid, ...identity })}\n`;
const entry = (epoch: string, seq: number) => ({
  stage: 1,
  kind: 'routed',
  result: result(seq, false),
  quality: { ok: true },
  origin: { epoch, seq, controller: 'run-1' },
});
const line = (epoch: string, seq: number): string => `${JSON.stringify(entry(epoch, seq))}\n`;

/** The numbers, in their first feed, of the results `feed` serves for the feed `epoch`. */
const servedFrom = (feed: ResultsFeed, epoch: string): number[] =>
  feed
    .read(0, 100_000, feed.epoch)
    .results.filter((e) => e.origin?.epoch === epoch)
    .map((e) => e.origin?.seq ?? 0);

/** The rollout reads the replacement's feed up to its newest result. */
const readAll = (feed: ResultsFeed): void => void feed.read(feed.cursor, undefined, feed.epoch);

function folderOf(dir: string): string {
  const folder = path.join(dir, HANDOVER_DIR);
  mkdirSync(folder, { recursive: true });
  return folder;
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').slice(0, -1);

describe('a handover file appended to as the drain goes on', () => {
  it('appends each batch of results in one write, after HANDOVER_WRITE_MS, and the replacement adopts each batch as it comes', async () => {
    const dir = tempDir();
    const clock = new FakeClock();
    const old = feedOf();
    push(old, 3);
    const writer = new HandoverWriter({ stateDir: dir, feed: old, controller: 'run-1', pid: LIVE_PID, setTimer: (fn, ms) => clock.setTimer(fn, ms) });
    old.onPush(() => writer.schedule());
    writer.schedule();
    await clock.advance(HANDOVER_WRITE_MS - 1);
    expect(existsSync(writer.file)).toBe(false);
    await clock.advance(1);
    await writer.flush();
    expect(writer.appends).toBe(1);
    expect(lines(writer.file)).toHaveLength(4);
    expect(JSON.parse(lines(writer.file)[0] as string)).toEqual({ handover: 1, epoch: old.epoch, pid: LIVE_PID });

    const next = feedOf();
    const reader = new HandoverReader(dir, next);
    reader.poll();
    expect(servedFrom(next, old.epoch)).toEqual([1, 2, 3]);
    // 40 requests end while it drains: one write, not 40.
    const before = { read: reader.bytesRead, size: statSync(writer.file).size };
    push(old, 40);
    await clock.advance(HANDOVER_WRITE_MS);
    await writer.flush();
    expect(writer.appends).toBe(2);
    reader.poll();
    expect(servedFrom(next, old.epoch)).toEqual(Array.from({ length: 43 }, (_, i) => i + 1));
    // Only the bytes appended since the last poll were read.
    expect(reader.bytesRead - before.read).toBe(statSync(writer.file).size - before.size);
  });
});

describe('the work a drain and its polls cost', () => {
  /** Ten more results after `unread` were handed over and adopted: what the write and the poll of those ten cost. */
  async function costOfTen(unread: number) {
    const dir = tempDir();
    const old = feedOf(100_000);
    push(old, unread);
    const writer = new HandoverWriter({ stateDir: dir, feed: old, controller: 'run-1', pid: LIVE_PID });
    await writer.flush();
    const backlogWrites = writer.appends;
    const next = feedOf(100_000);
    const reader = new HandoverReader(dir, next);
    reader.poll();
    // A large backlog is read in slices (HANDOVER_READ_BYTES), the rest in turns of their own.
    await until(() => next.cursor === unread, 'the backlog adopted');
    const before = { read: reader.bytesRead, size: statSync(writer.file).size, appends: writer.appends };
    push(old, 10);
    await writer.flush();
    reader.poll();
    const written = statSync(writer.file).size - before.size;
    return { backlogWrites, written, read: reader.bytesRead - before.read, appends: writer.appends - before.appends, adopted: next.cursor };
  }

  it('does not grow with the results already handed over: 10 more after 50,000 cost what 10 more after 10 do', async () => {
    const small = await costOfTen(10);
    const large = await costOfTen(50_000);
    expect(large.adopted).toBe(50_010);
    // The backlog goes in slices of 5,000 (the event loop runs between them).
    expect(large.backlogWrites).toBe(10);
    expect([small.appends, large.appends]).toEqual([1, 1]);
    // The same ten lines (their numbers have a few more digits), read and written once each.
    expect(large.written).toBeLessThan(small.written + 10 * 10);
    expect(large.read).toBe(large.written);
    expect(small.read).toBe(small.written);
  }, 60_000);
});

describe("the replacement's reading of a handover file", () => {
  it('ignores a torn last line until it is whole, and for good once its writer is gone', () => {
    const dir = tempDir();
    const folder = folderOf(dir);
    const next = feedOf();
    const notices: string[] = [];
    const reader = new HandoverReader(dir, next, (m) => notices.push(m));
    // A writer still draining, caught mid-append.
    const draining = path.join(folder, `${uuid('a')}.jsonl`);
    writeFileSync(draining, header('e-a', LIVE_PID) + line('e-a', 1) + line('e-a', 2).slice(0, 20));
    reader.poll();
    expect(servedFrom(next, 'e-a')).toEqual([1]);
    appendFileSync(draining, line('e-a', 2).slice(20) + line('e-a', 3).slice(0, 5));
    reader.poll();
    expect(servedFrom(next, 'e-a')).toEqual([1, 2]);
    // Read past, but its writer lives and wrote no final line: the rest may still come.
    readAll(next);
    reader.poll();
    expect(existsSync(draining)).toBe(true);

    // A writer killed mid-append: its torn line never ends; the file goes once read past.
    const killed = path.join(folder, `${uuid('b')}.jsonl`);
    writeFileSync(killed, header('e-b', DEAD_PID) + line('e-b', 1) + line('e-b', 2).slice(0, 30));
    reader.poll();
    expect(servedFrom(next, 'e-b')).toEqual([1]);
    readAll(next);
    reader.poll();
    expect(existsSync(killed)).toBe(false);
    expect(existsSync(draining)).toBe(true);

    // An append of 2 and 3 that failed after 2 and part of 3 (a full disk), retried whole once there was room: the
    // retry ends the torn line first, which is skipped (said once), and 2 is taken once.
    const failed = path.join(folder, `${uuid('c')}.jsonl`);
    const retried = '\n' + line('e-c', 2) + line('e-c', 3);
    writeFileSync(failed, header('e-c', DEAD_PID) + line('e-c', 1) + line('e-c', 2) + line('e-c', 3).slice(0, 30) + retried + '{"not": "a result"}\n');
    reader.poll();
    expect(servedFrom(next, 'e-c')).toEqual([1, 2, 3]);
    expect(notices).toEqual([`${failed}: lines that are not results skipped (a torn write)`]);

    // A header of another format (or a newer version): left alone, said once.
    const newer = path.join(folder, `${uuid('d')}.jsonl`);
    writeFileSync(newer, `${JSON.stringify({ handover: 2, epoch: 'e-d', pid: DEAD_PID })}\n${line('e-d', 1)}`);
    reader.poll();
    reader.poll();
    expect(servedFrom(next, 'e-d')).toEqual([]);
    expect(notices.slice(1)).toEqual([`${newer} is not a handover of a stopped proxy's results this proxy can read: left alone`]);
    expect(existsSync(newer)).toBe(true);
  });

  // A large handover (100,000 results is 25 MB, most of a second of CPU to parse and adopt) read in one poll held the
  // replacement's event loop, and the traffic it serves, that long: it is read in slices, each in a turn of its own.
  it('reads a file larger than one read in slices, in turns of the event loop of their own: the same results, in order, and deletes it only once read to its end', async () => {
    const dir = tempDir();
    const file = path.join(folderOf(dir), `${uuid('f')}.jsonl`);
    writeFileSync(file, header('e-f', DEAD_PID) + Array.from({ length: 60 }, (_, i) => line('e-f', i + 1)).join(''));
    const whole = feedOf();
    new HandoverReader(dir, whole, undefined).poll();
    const next = feedOf();
    // A few lines a read (each is some 250 bytes), the first holding the header too.
    const reader = new HandoverReader(dir, next, undefined, 2048);
    reader.poll();
    const first = servedFrom(next, 'e-f');
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(10);
    // Read past what it adopted, its writer gone: the file is not deleted while lines are left in it.
    readAll(next);
    reader.poll();
    expect(existsSync(file)).toBe(true);
    await until(() => next.cursor === 60, 'the rest read in turns of their own');
    expect(servedFrom(next, 'e-f')).toEqual(servedFrom(whole, 'e-f'));
    expect(servedFrom(next, 'e-f')).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    readAll(next);
    reader.poll();
    expect(existsSync(file)).toBe(false);
  });

  it('reads a line longer than one read whole', () => {
    const dir = tempDir();
    const file = path.join(folderOf(dir), `${uuid('9')}.jsonl`);
    writeFileSync(file, header('e-g', DEAD_PID) + line('e-g', 1) + line('e-g', 2));
    const next = feedOf();
    new HandoverReader(dir, next, undefined, 16).poll();
    expect(servedFrom(next, 'e-g')).toEqual([1, 2]);
  });

  it("reads an old proxy's whole-file .json beside the new files (mixed versions during an upgrade), each rewrite's new results once", async () => {
    const dir = tempDir();
    const folder = folderOf(dir);
    const legacy = path.join(folder, `${uuid('e')}.json`);
    const write = (final: boolean, seqs: number[]) =>
      writeFileSync(legacy, JSON.stringify({ epoch: 'e-old', pid: LIVE_PID, final, results: seqs.map((seq) => entry('e-old', seq)) }));
    write(false, [1]);
    const newer = feedOf();
    push(newer, 2);
    expect(await new HandoverWriter({ stateDir: dir, feed: newer, controller: 'run-1', pid: DEAD_PID }).finish()).toBe(true);

    const next = feedOf();
    const reader = new HandoverReader(dir, next);
    reader.poll();
    expect(servedFrom(next, 'e-old')).toEqual([1]);
    expect(servedFrom(next, newer.epoch)).toEqual([1, 2]);
    readAll(next);
    reader.poll();
    // The new file is done and read past; the old one's writer is still draining.
    expect(existsSync(path.join(folder, `${newer.epoch}.jsonl`))).toBe(false);
    expect(existsSync(legacy)).toBe(true);
    // Its last whole write: the results it had, and the new one.
    write(true, [1, 2]);
    reader.poll();
    expect(servedFrom(next, 'e-old')).toEqual([1, 2]);
    readAll(next);
    reader.poll();
    expect(existsSync(legacy)).toBe(false);
  });
});

describe("a handover file's end", () => {
  it('is a final line once every request has ended, nothing after it; a final file goes once read past though its writer lives', async () => {
    const dir = tempDir();
    const old = feedOf();
    push(old, 2);
    const writer = new HandoverWriter({ stateDir: dir, feed: old, controller: 'run-1', pid: LIVE_PID });
    expect(await writer.flush()).toBe(true);
    const next = feedOf();
    const reader = new HandoverReader(dir, next);
    reader.poll();
    readAll(next);
    reader.poll();
    expect(existsSync(writer.file)).toBe(true);
    // Nothing more ended: the last write is the final line alone.
    expect(await writer.finish()).toBe(true);
    expect(JSON.parse(lines(writer.file).at(-1) as string)).toEqual({ final: true, results: 2, dropped: 0 });
    const size = statSync(writer.file).size;
    // A result recorded after the last write cannot append past the final line.
    push(old, 1);
    writer.schedule();
    expect(await writer.flush()).toBe(true);
    expect(statSync(writer.file).size).toBe(size);
    reader.poll();
    reader.poll();
    expect(existsSync(writer.file)).toBe(false);
  });

  it("holds at most the feed's capacity of results, as the whole file did: the rest are said and counted, and the last write reports it", async () => {
    const dir = tempDir();
    const old = feedOf(10);
    const notices: string[] = [];
    const writer = new HandoverWriter({ stateDir: dir, feed: old, controller: 'run-1', pid: LIVE_PID, log: (m) => notices.push(m) });
    push(old, 8);
    await writer.flush();
    push(old, 8);
    // False: not everything unread is in the file, so the files this proxy adopted from must stay (rollout-feed.ts).
    expect(await writer.finish()).toBe(false);
    expect(lines(writer.file)).toHaveLength(12);
    expect(JSON.parse(lines(writer.file).at(-1) as string)).toEqual({ final: true, results: 10, dropped: 6 });
    expect(notices).toEqual([`${writer.file} holds 10 results, its cap: the rest the rollout has not read are not handed over (not judged)`]);
  });

  it('says so when it cannot be written, and reports the last write failed', async () => {
    const dir = tempDir();
    // The handover folder's place is taken by a file.
    writeFileSync(path.join(dir, HANDOVER_DIR), 'not a folder');
    const old = feedOf();
    push(old, 1);
    const notices: string[] = [];
    expect(await new HandoverWriter({ stateDir: dir, feed: old, controller: 'run-1', pid: LIVE_PID, log: (m) => notices.push(m) }).finish()).toBe(false);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('cannot hand 1 results the rollout has not read over to');
  });
});

describe('an append that fails', () => {
  it('is said, and its results go in the next write (after ending any torn line): none is lost or taken twice', async () => {
    const dir = tempDir();
    const old = feedOf();
    const notices: string[] = [];
    const writer = new HandoverWriter({ stateDir: dir, feed: old, controller: 'run-1', pid: DEAD_PID, log: (m) => notices.push(m) });
    push(old, 2);
    expect(await writer.flush()).toBe(true);
    // The file cannot be appended to for a while (its name taken by a folder).
    const aside = `${writer.file}.aside`;
    renameSync(writer.file, aside);
    mkdirSync(writer.file);
    push(old, 3);
    expect(await writer.flush()).toBe(false);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(`cannot hand 3 results the rollout has not read over to ${writer.file}`);
    rmSync(writer.file, { recursive: true });
    renameSync(aside, writer.file);
    push(old, 1);
    expect(await writer.finish()).toBe(true);
    expect(lines(writer.file).at(-1)).toBe(JSON.stringify({ final: true, results: 6, dropped: 0 }));
    const next = feedOf();
    new HandoverReader(dir, next).poll();
    expect(servedFrom(next, old.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('which files a replacement deletes when it stops in turn (release)', () => {
  it('those whose writer is done and that did not grow since its last poll; not one still draining, nor one appended to since', async () => {
    const dir = tempDir();
    const folder = folderOf(dir);
    // Done: its final line read.
    const finished = feedOf();
    push(finished, 1);
    const finishedWriter = new HandoverWriter({ stateDir: dir, feed: finished, controller: 'run-1', pid: LIVE_PID });
    await finishedWriter.finish();
    // Killed mid-drain: no final line, a torn one.
    const killed = path.join(folder, `${uuid('b')}.jsonl`);
    writeFileSync(killed, header('e-b', DEAD_PID) + line('e-b', 1) + line('e-b', 2).slice(0, 9));
    // Still draining.
    const draining = feedOf();
    push(draining, 1);
    const drainingWriter = new HandoverWriter({ stateDir: dir, feed: draining, controller: 'run-1', pid: LIVE_PID });
    await drainingWriter.flush();
    // Its last results appended after the replacement's last poll, then its final line.
    const late = feedOf();
    push(late, 1);
    const lateWriter = new HandoverWriter({ stateDir: dir, feed: late, controller: 'run-1', pid: LIVE_PID });
    await lateWriter.flush();

    const replacement = feedOf();
    const reader = new HandoverReader(dir, replacement);
    reader.poll();
    push(late, 1);
    await lateWriter.finish();
    reader.release();
    expect(existsSync(finishedWriter.file)).toBe(false);
    expect(existsSync(killed)).toBe(false);
    expect(existsSync(drainingWriter.file)).toBe(true);
    expect(existsSync(lateWriter.file)).toBe(true);
    // The proxy started next serves the late one's last result.
    const third = feedOf();
    new HandoverReader(dir, third).poll();
    expect(servedFrom(third, late.epoch)).toEqual([1, 2]);
  });

  // Before (session 22): the writer was judged by its pid alone, so the file of a proxy killed mid-drain whose pid was
  // given since to another process (a container's restart, a reboot) read as still draining, kept and adopted again
  // by every proxy started on the folder. Its header names the writer's start time and boot now.
  it("one killed mid-drain whose writer's pid now names a process started at another time, or in another boot", () => {
    const dir = tempDir();
    const folder = folderOf(dir);
    const started = readProcStat(LIVE_PID)?.startTime as string;
    const killed = [{ pidStart: `${Number(started) + 1}` }, { pidStart: started, bootId: 'another-boot' }].map((identity, n) => {
      const file = path.join(folder, `${uuid(String(n + 1))}.jsonl`);
      writeFileSync(file, header(`e-${n}`, LIVE_PID, identity) + line(`e-${n}`, 1));
      return file;
    });
    // The writer itself, still draining: kept.
    const draining = path.join(folder, `${uuid('3')}.jsonl`);
    writeFileSync(draining, header('e-3', LIVE_PID, { pidStart: started }) + line('e-3', 1));

    const reader = new HandoverReader(dir, feedOf());
    reader.poll();
    reader.release();
    expect(killed.filter((file) => existsSync(file))).toEqual([]);
    expect(existsSync(draining)).toBe(true);
  });
});
