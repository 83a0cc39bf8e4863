// The results a stopping proxy served that the rollout has not read: those recorded after its last read, and
// those of the requests it finishes while draining (the slowest ones, a hanging green's failures among them). Its
// admin port is closed by then (a replacement may have it), so it appends them to its state folder instead,
// STATE_DIR/proxy-handover/EPOCH.jsonl (handover-writer.ts, format in handover-format.ts), and the proxy started on
// that folder serves them in its own feed (ResultsFeed.adopt), each with its origin, so the rollout judges each
// one once, in the stage it was served in (src/live/fleet.ts). That proxy reads each file by byte offset, only what
// was appended since its last poll, and deletes it once its reader has read past and the writer is done.
// Results carry no answer text (results-feed.ts), so neither does the file.
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { isProcessAlive, type ProcessIdentity } from '../core/proc-stat.js';
import { readRegularFile } from '../core/read-regular-file.js';
import { HANDOVER_DIR, LEGACY_FILE, LINES_FILE, linesFileName, parseHeader, parseLegacyHandover, parseLine } from './handover-format.js';
import type { HandedEntry, ResultsFeed } from './results-feed.js';

export { HANDOVER_DIR } from './handover-format.js';
export { HANDOVER_WRITE_MS, HandoverWriter } from './handover-writer.js';

/**
 * The most of one file a poll reads and adopts at once: the rest follows in turns of the event loop of their own.
 * Parsing and adopting a result costs microseconds of CPU, so a replacement's first read of a large handover held
 * the event loop, and the traffic the proxy serves, that long: 100,000 unread results (25 MB) took 657 ms of CPU in
 * one poll on a loaded machine; in 256 KiB slices (about 1,000 results) the longest took 19 ms, and all were
 * adopted as soon (docs/benchmarks-history.md, session 15).
 */
export const HANDOVER_READ_BYTES = 256 * 1024;
/** A previous version's whole-file handover (100,000 results at most); anything far larger is not one. */
const MAX_LEGACY_BYTES = 256 * 1024 * 1024;

/** What a replacement knows of one file: how far it read it, the feed number of the last result it took. */
interface Loaded {
  /** Tells a later version of the file from the one read: inode and size (and mtime for a whole-file .json). */
  stamp: string;
  /** .jsonl: bytes read, up to the end of the last complete line (a torn last line is read again when whole). */
  offset: number;
  lastSeq: number;
  /** The writer's process, from the header; undefined until a complete header line is read. */
  writer?: ProcessIdentity;
  /** Its final line was read (.jsonl), or its last whole write said so (.json). */
  final: boolean;
  /** Not a handover this proxy can read: left alone. */
  foreign?: true;
  /** Lines after the header that were not results (a torn append, a hand edit): said once. */
  skipped: number;
  /** The last read stopped at the read limit: whole lines are left to read (in a turn of their own). */
  more?: boolean;
}

/** The replacement's side: adopts what stopped proxies handed over, then deletes each file once read past. */
export class HandoverReader {
  /** Bytes read from .jsonl files: what the polls cost, counted by tests and bench/tools/handover-work.js. */
  bytesRead = 0;
  private readonly files = new Map<string, Loaded>();
  /** Per origin feed, the last result adopted: one carried by two files (a proxy that stopped in turn) is served once. */
  private readonly adopted = new Map<string, number>();
  private readonly dir: string;
  /** The next turn's poll, while a file has more to read than one poll reads. */
  private continuing?: NodeJS.Immediate;

  constructor(
    stateDir: string,
    private readonly feed: ResultsFeed,
    private readonly log?: (message: string) => void,
    /** HANDOVER_READ_BYTES; smaller in tests. */
    private readonly readBytes = HANDOVER_READ_BYTES,
  ) {
    this.dir = path.join(stateDir, HANDOVER_DIR);
  }

  /**
   * Before each read of the feed: what was appended or rewritten is adopted, files read past and finished deleted.
   * A file with more than readBytes new goes on being read in the next turns of the event loop, on its own.
   */
  poll(): void {
    for (const name of this.names()) {
      if (LINES_FILE.test(name)) this.pollLines(name);
      else this.pollLegacy(name);
    }
    if (this.continuing === undefined && [...this.files.values()].some((loaded) => loaded.more === true)) {
      this.continuing = setImmediate(() => {
        this.continuing = undefined;
        this.poll();
      });
      // Nothing to wait for at exit: the next proxy reads the file from its start.
      this.continuing.unref();
    }
  }

  /**
   * This proxy stops in turn, its own handover written: what it adopted and was not read is in that file, so the
   * files of proxies that have finished go. A proxy still draining may write more: its file stays for the next.
   */
  release(): void {
    for (const [name, loaded] of this.files) {
      if (loaded.foreign) continue;
      // Asked before the file is looked at: a writer gone by then has appended all it ever will.
      const done = this.finished(loaded);
      // Written since this proxy read it (its writer's last results), or not read to its end yet: left for the next
      // proxy on the folder.
      if (loaded.more === true) continue;
      if (stampOf(path.join(this.dir, name), LEGACY_FILE.test(name)) !== loaded.stamp) continue;
      if (done) this.remove(name);
    }
  }

  private pollLines(name: string): void {
    const file = path.join(this.dir, name);
    let loaded = this.files.get(name);
    // Asked before reading: a writer gone (or final) before the read has nothing more than what this read finds.
    const doneBefore = loaded?.writer !== undefined && this.finished(loaded);
    let fd: number;
    try {
      // O_NONBLOCK: a named pipe under a handover's name held open() for good, and the whole proxy with it (hostile29).
      fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    } catch {
      this.files.delete(name);
      return;
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) {
        // Not a file a proxy wrote: left alone, said once.
        if (loaded?.foreign !== true) this.foreign(file, (loaded = { stamp: '', offset: 0, lastSeq: 0, final: false, skipped: 0 }));
        this.files.set(name, loaded);
        return;
      }
      const stamp = `${stat.ino}:${stat.size}`;
      // Another file under the same name (put back by hand): read from its start, each origin still taken once.
      if (loaded && !loaded.stamp.startsWith(`${stat.ino}:`)) loaded = undefined;
      loaded ??= { stamp, offset: 0, lastSeq: 0, final: false, skipped: 0 };
      this.files.set(name, loaded);
      if (loaded.foreign) return;
      if (stat.size > loaded.offset) this.readLines(file, fd, loaded, stat.size);
      loaded.stamp = stamp;
    } finally {
      closeSync(fd);
    }
    if (!loaded.foreign && !loaded.more && doneBefore && this.feed.readPast >= loaded.lastSeq) this.remove(name);
  }

  /**
   * Reads what was appended since the last poll, at most readBytes of it (all of it when a single line is longer),
   * up to its last complete line, and adopts the new results.
   */
  private readLines(file: string, fd: number, loaded: Loaded, size: number): void {
    const left = size - loaded.offset;
    let bytes = Buffer.alloc(Math.min(left, this.readBytes));
    let got = readSync(fd, bytes, 0, bytes.length, loaded.offset);
    if (got === bytes.length && got < left && bytes.lastIndexOf(0x0a, got - 1) < 0) {
      bytes = Buffer.alloc(left);
      got = readSync(fd, bytes, 0, bytes.length, loaded.offset);
    }
    this.bytesRead += got;
    const end = got > 0 ? bytes.lastIndexOf(0x0a, got - 1) : -1;
    loaded.more = end >= 0 && got < left;
    if (end < 0) return;
    const lines = bytes.toString('utf8', 0, end).split('\n');
    const first = loaded.offset === 0;
    loaded.offset += end + 1;
    if (first) {
      const header = parseHeader(lines.shift() ?? '');
      if (!header) {
        this.foreign(file, loaded);
        return;
      }
      loaded.writer = header;
    }
    const handed: HandedEntry[] = [];
    const skippedBefore = loaded.skipped;
    for (const line of lines) {
      // An append after a failed one begins by ending what that one left: an empty line when it left nothing.
      if (line === '') continue;
      const parsed = parseLine(line);
      if (parsed === undefined) loaded.skipped++;
      else if ('final' in parsed) loaded.final = true;
      else handed.push(parsed);
    }
    if (skippedBefore === 0 && loaded.skipped > 0) this.log?.(`${file}: lines that are not results skipped (a torn write)`);
    this.adopt(handed, loaded);
  }

  /** The previous version's whole-file EPOCH.json, read again each time it is rewritten. */
  private pollLegacy(name: string): void {
    const file = path.join(this.dir, name);
    const stamp = stampOf(file, true);
    if (stamp === undefined) return;
    let loaded = this.files.get(name);
    if (loaded?.stamp !== stamp) {
      loaded = { stamp, offset: 0, lastSeq: loaded?.lastSeq ?? 0, final: false, skipped: 0 };
      this.files.set(name, loaded);
      let handed;
      try {
        handed = parseLegacyHandover(readRegularFile(file, MAX_LEGACY_BYTES).toString('utf8'));
      } catch {
        handed = undefined;
      }
      if (!handed) {
        this.foreign(file, loaded);
        return;
      }
      loaded.writer = { pid: handed.pid };
      loaded.final = handed.final;
      this.adopt(handed.results, loaded);
    }
    if (!loaded.foreign && this.feed.readPast >= loaded.lastSeq && this.finished(loaded)) this.remove(name);
  }

  private adopt(handed: readonly HandedEntry[], loaded: Loaded): void {
    const fresh = handed.filter((entry) => {
      const { epoch, seq } = entry.origin;
      if (seq <= (this.adopted.get(epoch) ?? 0)) return false;
      this.adopted.set(epoch, seq);
      return true;
    });
    this.feed.adopt(fresh);
    if (fresh.length > 0) loaded.lastSeq = this.feed.cursor;
  }

  private foreign(file: string, loaded: Loaded): void {
    loaded.foreign = true;
    loaded.more = false;
    this.log?.(`${file} is not a handover of a stopped proxy's results this proxy can read: left alone`);
  }

  private finished(loaded: Loaded): boolean {
    // A writer killed mid-drain (kill -9) wrote its last: what the file holds is all there will be (a torn last line
    // stays torn). A file of another feed naming this very process's pid was written by a process now gone (a
    // container's pid 1, restarted).
    // The writer's pid, start time and boot (a header since session 23) tell a living writer from a process given its pid since.
    if (loaded.writer === undefined) return false;
    return loaded.final || loaded.writer.pid === process.pid || !isProcessAlive(loaded.writer);
  }

  private names(): string[] {
    const own = [linesFileName(this.feed.epoch), `${this.feed.epoch}.json`];
    try {
      return readdirSync(this.dir).filter((name) => (LINES_FILE.test(name) || LEGACY_FILE.test(name)) && !own.includes(name));
    } catch {
      return [];
    }
  }

  private remove(name: string): void {
    rmSync(path.join(this.dir, name), { force: true });
    this.files.delete(name);
  }
}

/** What tells a later version of a file from the one read; undefined when it is gone. */
function stampOf(file: string, legacy: boolean): string | undefined {
  try {
    const stat = statSync(file);
    // A .json is rewritten whole (a rename: new inode, maybe the same size); a .jsonl only grows.
    return legacy ? `${stat.mtimeMs}:${stat.size}` : `${stat.ino}:${stat.size}`;
  } catch {
    return undefined;
  }
}
