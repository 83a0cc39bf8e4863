// The results a stopping proxy served that the rollout has not read: those recorded after its last read, and
// those of the requests it finishes while draining (the slowest ones, a hanging green's failures among them). Its
// admin port is closed by then (a replacement may have it), so it writes them to its state folder instead,
// STATE_DIR/proxy-handover/EPOCH.json (atomically, again as more end), and the proxy started on that folder serves
// them in its own feed (ResultsFeed.adopt), each with its origin, so the rollout judges each one once, in the stage
// it was served in (src/live/fleet.ts). That proxy deletes the file once its reader has read past them.
// Results carry no answer text (results-feed.ts), so neither does the file.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { errorText } from '../core/errors.js';
import { makeFolder, writeFileAtomic } from '../state/files.js';
import { isPidAlive } from '../state/lock.js';
import type { HandedEntry, ResultsFeed } from './results-feed.js';

export const HANDOVER_DIR = 'proxy-handover';
/** A draining proxy rewrites its file at most this often as its requests end: the rollout reads them soon after. */
export const HANDOVER_WRITE_MS = 200;
/** One file per stopped proxy process, named by its feed's epoch (a UUID); writeFileAtomic's temp files do not match. */
const FILE_NAME = /^[0-9a-f-]{36}\.json$/;

interface HandoverFile {
  /** The feed of the proxy that wrote it. */
  epoch: string;
  pid: number;
  /** Its last write: every request it had has ended. */
  final: boolean;
  results: HandedEntry[];
}

export interface HandoverWriterOptions {
  stateDir: string;
  feed: ResultsFeed;
  /** The rollout run driving the proxy when it began to stop: only results served under its routes are wanted. */
  controller: string;
  pid: number;
  log?: (message: string) => void;
}

/** The stopping proxy's side: its unread results, rewritten as more come in; no file while there are none. */
export class HandoverWriter {
  private timer?: NodeJS.Timeout;
  private readonly file: string;
  /** The last write is done: a result recorded after it (none should be) cannot turn it back into a draft. */
  private finished = false;

  constructor(private readonly options: HandoverWriterOptions) {
    this.file = path.join(options.stateDir, HANDOVER_DIR, `${options.feed.epoch}.json`);
  }

  /** A result came: written within HANDOVER_WRITE_MS. */
  schedule(): void {
    if (this.timer || this.finished) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write(false);
    }, HANDOVER_WRITE_MS);
    this.timer.unref();
  }

  /** The last write, once every request has ended. False when it failed (the results are lost to the rollout). */
  finish(): boolean {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.finished = true;
    return this.write(true);
  }

  private write(final: boolean): boolean {
    const { feed, controller, pid, log } = this.options;
    const results = feed.unread(controller);
    if (results.length === 0) return true;
    const content: HandoverFile = { epoch: feed.epoch, pid, final, results };
    try {
      makeFolder(path.dirname(this.file));
      writeFileAtomic(this.file, JSON.stringify(content));
      return true;
    } catch (error) {
      log?.(`cannot hand ${results.length} results the rollout has not read over to ${this.file} (${errorText(error)}): they are not judged`);
      return false;
    }
  }
}

/** What a replacement knows of one file: when it last read it, the feed number of the last result it took. */
interface Loaded {
  stamp: string;
  lastSeq: number;
  pid: number;
  final: boolean;
  /** Not a handover this proxy can read: left alone. */
  foreign?: true;
}

/** The replacement's side: adopts what stopped proxies handed over, then deletes each file once read past. */
export class HandoverReader {
  private readonly files = new Map<string, Loaded>();
  /** Per origin feed, the last result adopted: one carried by two files (a proxy that stopped in turn) is served once. */
  private readonly adopted = new Map<string, number>();
  private readonly dir: string;

  constructor(
    stateDir: string,
    private readonly feed: ResultsFeed,
    private readonly log?: (message: string) => void,
  ) {
    this.dir = path.join(stateDir, HANDOVER_DIR);
  }

  /** Before each read of the feed: new or rewritten files adopted, those read past and finished deleted. */
  poll(): void {
    for (const name of this.names()) {
      const file = path.join(this.dir, name);
      const stamp = stampOf(file);
      if (stamp === undefined) continue;
      let loaded = this.files.get(name);
      if (loaded?.stamp !== stamp) {
        loaded = this.load(file, stamp, loaded);
        this.files.set(name, loaded);
      }
      if (!loaded.foreign && this.feed.readPast >= loaded.lastSeq && this.finished(loaded)) this.remove(name);
    }
  }

  /**
   * This proxy stops in turn, its own handover written: what it adopted and was not read is in that file, so the
   * files of proxies that have finished go. A proxy still draining may write more: its file stays for the next.
   */
  release(): void {
    for (const [name, loaded] of this.files) {
      // Rewritten since this proxy read it (its writer's last results): left for the next proxy on the folder.
      if (stampOf(path.join(this.dir, name)) !== loaded.stamp) continue;
      if (!loaded.foreign && this.finished(loaded)) this.remove(name);
    }
  }

  private finished(loaded: Loaded): boolean {
    // A writer killed mid-drain (kill -9) wrote its last: what the file holds is all there will be. A file of another
    // feed naming this very process's pid was written by a process now gone (a container's pid 1, restarted).
    return loaded.final || loaded.pid === process.pid || !isPidAlive(loaded.pid);
  }

  private names(): string[] {
    try {
      return readdirSync(this.dir).filter((name) => FILE_NAME.test(name) && name !== `${this.feed.epoch}.json`);
    } catch {
      return [];
    }
  }

  private load(file: string, stamp: string, before: Loaded | undefined): Loaded {
    let handed: HandoverFile | undefined;
    try {
      handed = parseHandover(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      handed = undefined;
    }
    if (!handed) {
      this.log?.(`${file} is not a handover of a stopped proxy's results this proxy can read: left alone`);
      return { stamp, lastSeq: 0, pid: 0, final: false, foreign: true };
    }
    const fresh = handed.results.filter((entry) => {
      const { epoch, seq } = entry.origin;
      if (seq <= (this.adopted.get(epoch) ?? 0)) return false;
      this.adopted.set(epoch, seq);
      return true;
    });
    this.feed.adopt(fresh);
    return { stamp, lastSeq: fresh.length > 0 ? this.feed.cursor : (before?.lastSeq ?? 0), pid: handed.pid, final: handed.final };
  }

  private remove(name: string): void {
    rmSync(path.join(this.dir, name), { force: true });
    this.files.delete(name);
  }
}

/** What tells a rewrite of a file from the version read: its time and size; undefined when it is gone. */
function stampOf(file: string): string | undefined {
  try {
    const stat = statSync(file);
    return `${stat.mtimeMs}:${stat.size}`;
  } catch {
    return undefined;
  }
}

const KINDS = new Set(['routed', 'fallback', 'mirror']);

/** The file's content, or undefined when it is not a handover; entries not shaped like results are dropped. */
export function parseHandover(value: unknown): HandoverFile | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.epoch !== 'string' || typeof v.pid !== 'number' || typeof v.final !== 'boolean' || !Array.isArray(v.results)) return undefined;
  return { epoch: v.epoch, pid: v.pid, final: v.final, results: v.results.filter(isHandedEntry) };
}

function isHandedEntry(value: unknown): value is HandedEntry {
  if (typeof value !== 'object' || value === null) return false;
  const { origin, kind, result, quality, stage } = value as Record<string, unknown>;
  const o = origin as Record<string, unknown> | null | undefined;
  const r = result as Record<string, unknown> | null | undefined;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.epoch === 'string' &&
    Number.isInteger(o.seq) &&
    typeof o.controller === 'string' &&
    typeof kind === 'string' &&
    KINDS.has(kind) &&
    typeof r === 'object' &&
    r !== null &&
    (r.arm === 'blue' || r.arm === 'green') &&
    typeof r.ok === 'boolean' &&
    typeof r.latencyMs === 'number' &&
    typeof quality === 'object' &&
    quality !== null &&
    typeof (quality as Record<string, unknown>).ok === 'boolean' &&
    (stage === undefined || Number.isInteger(stage))
  );
}
