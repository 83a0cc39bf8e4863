// What a stopping proxy's handover costs, counted rather than timed: a drain that starts with UNREAD results the
// rollout has not read and sees PER_SECOND more end for SECONDS, its writer writing every HANDOVER_WRITE_MS (a tick
// here, driven by hand so a loaded machine runs the same ticks), and the replacement polling after each write.
// Bytes and write calls (syscalls) from /proc/self/io (the kernel's count for this process), for each build given: a
// checkout's folder, built (the version before session 14 rewrote the whole .json each time; this one appends).
//   node bench/tools/handover-work.js [UNREAD=50000] [SECONDS=5] [PER_SECOND=100] [BUILD_DIR ...]   (default: this checkout)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path, { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { positionalArgs } from '../lib/args.js';

const { unread, seconds, perSecond, rest: dirs } = positionalArgs({ unread: 50_000, seconds: 5, perSecond: 100 });
const builds = dirs.length > 0 ? dirs : [new URL('../..', import.meta.url).pathname];
const CONTROLLER = 'run-1';

/** The kernel's counts of this process's I/O: bytes read and written through read/write calls, and the calls. */
function io() {
  const fields = Object.fromEntries(
    readFileSync('/proc/self/io', 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(': '))
      .map(([key, value]) => [key, Number(value)]),
  );
  return { read: fields.rchar, written: fields.wchar, writes: fields.syscw };
}

const result = (n) => ({ arm: 'green', model: 'm', ok: n % 3 !== 0, content: '', latencyMs: 100 + (n % 900), attempts: 1, stream: false });

for (const dir of builds) {
  const dist = (/** @type {string} */ file) => pathToFileURL(resolve(dir, 'dist', file)).href;
  /** @type {any} */
  const handover = await import(dist('proxy/handover.js'));
  /** @type {any} */
  const feeds = await import(dist('proxy/results-feed.js'));
  const stateDir = mkdtempSync(path.join(tmpdir(), 'handover-work-'));
  const feed = new feeds.ResultsFeed(feeds.DEFAULT_FEED_CAPACITY, { controller: () => CONTROLLER });
  for (let n = 1; n <= unread; n++) feed.push(result(n), 'routed', { ok: true }, 1);
  // A live pid that is not this process: the writer is still draining for the reader.
  const writer = new handover.HandoverWriter({ stateDir, feed, controller: CONTROLLER, pid: process.ppid });
  const next = new feeds.ResultsFeed(feeds.DEFAULT_FEED_CAPACITY, { controller: () => CONTROLLER });
  const reader = new handover.HandoverReader(stateDir, next);
  // The version before wrote synchronously (a private write(false)); this one appends through flush().
  const write = typeof writer.flush === 'function' ? () => writer.flush() : () => writer.write(false);
  const ticks = Math.round((seconds * 1000) / (handover.HANDOVER_WRITE_MS ?? 200));
  const perTick = Math.round(perSecond / (1000 / (handover.HANDOVER_WRITE_MS ?? 200)));
  const start = io();
  let afterBacklog = start;
  let ended = unread;
  for (let tick = 0; tick < ticks; tick++) {
    await write();
    reader.poll();
    // The first write holds every result unread when the drain began, in either version: what follows is the drain.
    if (tick === 0) afterBacklog = io();
    for (let n = 0; n < perTick; n++) feed.push(result(++ended), 'routed', { ok: true }, 1);
  }
  await writer.finish();
  reader.poll();
  const end = io();
  const written = end.written - start.written;
  const read = end.read - start.read;
  process.stdout.write(
    `${JSON.stringify({
      build: dir,
      unread,
      seconds,
      perSecond,
      adopted: next.cursor,
      writtenMB: Math.round(written / 1e4) / 100,
      writeCalls: end.writes - start.writes,
      readByReplacementMB: Math.round(read / 1e4) / 100,
      // Per second of drain after that first write: each later write's (and poll's) cost.
      drainWrittenKBPerSecond: Math.round((end.written - afterBacklog.written) / seconds / 1e3),
      drainReadKBPerSecond: Math.round((end.read - afterBacklog.read) / seconds / 1e3),
    })}\n`,
  );
  rmSync(stateDir, { recursive: true, force: true });
}
