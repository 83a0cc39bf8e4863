// The state folder of one rollout: state.json (atomic snapshot), events.jsonl (journal), lock, control/.
import os from 'node:os';
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { CliError, EXIT } from '../core/exit.js';
import { formatWeight } from '../core/format.js';
import { FINAL_PHASES, type RolloutEvent, type RolloutSnapshot } from '../engine/types.js';
import { takeControlRequests, watchControl, controlDir, type ControlRequest, type ControlWatch, type WatchControlOptions } from './control.js';
import { describeFsError, errorCode, errorText } from '../core/errors.js';
import { IrregularFileError, readRegularFile, readRegularFileTail } from '../core/read-regular-file.js';
import {
  appendWholeSync,
  EVENTS_FILE,
  HOOK_FILE,
  LIVE_VIEW_FILE,
  PREV_EVENTS_FILE,
  PREV_STATE_FILE,
  ROOM_FILE,
  STATE_FILE,
  writeFileAtomicAsync,
} from './files.js';
import { parseJournal } from './journal.js';
import { snapshotProblem } from './snapshot-schema.js';
import { acquireLock, isOwnerAlive, readLock, type LockHandle, type LockInfo } from './lock.js';

/**
 * state.json is a few KB (a plan's stages and their figures); the journal a line per event. Far larger files, or a
 * named pipe or a device put in their place, are not this folder's: refused, not read forever or into all memory.
 */
export const MAX_STATE_BYTES = 64 * 1024 * 1024;
const MAX_JOURNAL_BYTES = 256 * 1024 * 1024;
/** The first window of the journal's end read for its last lines: a few hundred lines. */
const TAIL_WINDOW_BYTES = 64 * 1024;

/** Why a state file cannot be read, said for the operator. */
function unreadableWhy(error: unknown, file: string): string {
  if (!(error instanceof IrregularFileError)) return describeFsError(error, file);
  return error.kind === undefined
    ? `it is larger than ${error.maxBytes / (1024 * 1024)} MiB, far larger than bluegreen writes it; something else wrote it. Move it aside`
    : `it is ${error.kind}, not a file bluegreen wrote; move it aside`;
}

export interface StateStoreOptions {
  /** Used only for messages (lock times); defaults to Date.now. */
  now?: () => number;
  /** This machine's name, for judging whether a lock's pid can be checked; defaults to os.hostname(). */
  host?: string;
  /** Where skipped control files are reported; the engine can turn these into warning events. */
  warn?: (message: string) => void;
}

export class StateStore {
  readonly dir: string;
  readonly statePath: string;
  readonly eventsPath: string;
  private readonly now: () => number;
  private readonly host: string;
  private readonly warn: (message: string) => void;
  /** Whether this store has checked that the journal ends on a line boundary (done before its first append). */
  private journalChecked = false;
  private readonly roomPath: string;
  private roomAside = false;

  constructor(dir: string, options: StateStoreOptions = {}) {
    this.dir = dir;
    this.statePath = path.join(dir, STATE_FILE);
    this.eventsPath = path.join(dir, EVENTS_FILE);
    this.roomPath = path.join(dir, ROOM_FILE);
    this.now = options.now ?? Date.now;
    this.host = options.host ?? os.hostname();
    this.warn = options.warn ?? (() => {});
  }

  // --- state.json ------------------------------------------------------------------------------

  /** Rewrites state.json atomically, off the event loop; callers keep one write at a time (StateSaver does). */
  async writeState(snapshot: RolloutSnapshot): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomicAsync(this.statePath, `${JSON.stringify(snapshot)}\n`);
  }

  /**
   * Writes the snapshot as state.json would be written, then removes it: a folder with no room (a full disk) or
   * no permission for the record is found before any traffic moves. A CliError (exit 2) when it cannot.
   */
  async proveStateFits(snapshot: RolloutSnapshot): Promise<void> {
    // Named so that reset() clears a temp file left by a kill mid-write (".state.json.*.tmp").
    const probe = path.join(this.dir, `${STATE_FILE}.probe`);
    try {
      await writeFileAtomicAsync(probe, `${JSON.stringify(snapshot)}\n`);
    } catch (error) {
      throw new CliError(`cannot write the rollout's state in ${this.dir} (${describeFsError(error, probe)}); nothing was started`, EXIT.usage);
    } finally {
      await rm(probe, { force: true });
    }
  }

  /** The last snapshot, undefined when there is none; a CliError naming the file when it cannot be used. */
  readState(): RolloutSnapshot | undefined {
    let text: string;
    try {
      text = readRegularFile(this.statePath, MAX_STATE_BYTES).toString('utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw new CliError(`cannot read ${this.statePath}: ${unreadableWhy(error, this.statePath)}`, EXIT.usage);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CliError(
        `${this.statePath} is corrupt (${errorText(error)}); it is always written whole, so something else changed it. Move it aside; ${this.eventsPath} still tells what happened`,
        EXIT.usage,
      );
    }
    const problem = snapshotProblem(value);
    if (problem) throw new CliError(`${this.statePath} is not a bluegreen state file: ${problem}`, EXIT.usage);
    return value as RolloutSnapshot;
  }

  // --- events.jsonl ----------------------------------------------------------------------------

  /** One line per event, appended synchronously: a crash loses at most the line being written. */
  appendEvent(event: RolloutEvent): void {
    mkdirSync(this.dir, { recursive: true });
    const lead = this.journalChecked ? '' : this.tornTailFix();
    const append = (value: RolloutEvent) => appendWholeSync(this.eventsPath, `${lead}${JSON.stringify(value)}\n`);
    if (event.type === 'finished') this.appendFinished(event, append);
    else append(event);
    this.journalChecked = true;
  }

  /**
   * Sets ROOM_BYTES aside in the folder (ROOM_FILE) for the rollout's finished line, given back when that line has no
   * room (a full disk). Once, best effort: a folder without that room runs the rollout all the same.
   */
  setRoomAside(): void {
    if (this.roomAside) return;
    this.roomAside = true;
    try {
      writeFileSync(this.roomPath, Buffer.alloc(ROOM_BYTES));
    } catch {
      this.giveBackRoom();
    }
  }

  /**
   * The finished line is where status reads how the rollout ended once state.json missed its last writes (a full
   * disk). With no room for it, the room set aside is given back and it is tried again; still none, its start is
   * written with its phase and exit code. The room is given back after it in any case (the last state.json's).
   */
  private appendFinished(event: RolloutEvent, append: (value: RolloutEvent) => void): void {
    try {
      append(event);
    } catch (error) {
      if (errorCode(error) !== 'ENOSPC') throw error;
      this.giveBackRoom();
      try {
        append(event);
      } catch (again) {
        if (errorCode(again) !== 'ENOSPC') throw again;
        append(cutFinished(event));
      }
    } finally {
      this.giveBackRoom();
    }
  }

  private giveBackRoom(): void {
    try {
      rmSync(this.roomPath, { force: true });
    } catch {
      // A folder gone read-only: nothing else could be written there either.
    }
  }

  /**
   * The journal's events, oldest first (or only the last few); a torn last line is left out. The last few are read
   * from the file's end, a window growing until it holds them: `status` on a 64 MB journal read it whole (8.8 s, 480 MB).
   */
  readEvents(options: { last?: number } = {}): RolloutEvent[] {
    const last = options.last;
    if (last !== undefined && last <= 0) return [];
    try {
      if (last === undefined) return parseJournal(readRegularFile(this.eventsPath, MAX_JOURNAL_BYTES).toString('utf8')).events;
      for (let window = TAIL_WINDOW_BYTES; ; window *= 4) {
        const { buffer, fromStart } = readRegularFileTail(this.eventsPath, Math.min(window, MAX_JOURNAL_BYTES));
        const text = buffer.toString('utf8');
        // The window's first line is cut unless it starts the file: left out.
        const cut = text.indexOf('\n');
        const { events } = parseJournal(fromStart ? text : cut < 0 ? '' : text.slice(cut + 1));
        if (events.length >= last || fromStart || window >= MAX_JOURNAL_BYTES) return events.slice(-last);
      }
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw new CliError(`cannot read ${this.eventsPath}: ${unreadableWhy(error, this.eventsPath)}`, EXIT.usage);
    }
  }

  /**
   * Starts a new rollout's record. The previous run's files are kept one generation back as state.prev.json
   * and events.prev.jsonl (for a post-mortem after an unexpected restart), and pending control requests are
   * dropped so an old "abort" cannot hit the new rollout. Call it while holding the lock. `keepRecord` (a
   * resumed rollout) keeps state.json and the journal, which the resumed run goes on writing.
   */
  reset(options: { keepRecord?: boolean } = {}): void {
    mkdirSync(this.dir, { recursive: true });
    if (!options.keepRecord) {
      moveAside(this.statePath, path.join(this.dir, PREV_STATE_FILE));
      moveAside(this.eventsPath, path.join(this.dir, PREV_EVENTS_FILE));
    }
    // A rollout killed before its end leaves the room it set aside.
    this.giveBackRoom();
    this.roomAside = false;
    // A process killed in the middle of an atomic write leaves its temp file (".state.json.<pid>.<id>.tmp", the
    // hook record's ".hook.json.<pid>.<id>.tmp", a live rollout's ".live.json.<pid>.<id>.tmp", which it rewrites
    // a few times a second: newuser33 found one after a kill -9). Not the proxy's route file's: a proxy writes it.
    for (const name of readdirSync(this.dir)) {
      if ([STATE_FILE, HOOK_FILE, LIVE_VIEW_FILE].some((file) => name.startsWith(`.${file}.`)) && name.endsWith('.tmp'))
        rmSync(path.join(this.dir, name), { force: true });
    }
    const folder = controlDir(this.dir);
    let names: string[] = [];
    try {
      names = readdirSync(folder);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    for (const name of names) rmSync(path.join(folder, name), { force: true, recursive: true });
    this.journalChecked = false;
  }

  // --- lock and control ------------------------------------------------------------------------

  acquireLock(info: LockInfo): LockHandle {
    const lock = acquireLock(this.dir, info, { now: this.now, host: this.host });
    if (lock.warning === undefined) return lock;
    return { release: () => lock.release(), warning: `${lock.warning}${this.unfinishedNote()}` };
  }

  readLock(): LockInfo | undefined {
    return readLock(this.dir);
  }

  isOwnerAlive(lock: LockInfo): boolean {
    return isOwnerAlive(lock, this.host);
  }

  takeControlRequests(): ControlRequest[] {
    return takeControlRequests(this.dir, this.warn);
  }

  watchControl(onRequest: (request: ControlRequest) => void, options: Omit<WatchControlOptions, 'warn'>): ControlWatch {
    return watchControl(this.dir, onRequest, { ...options, warn: this.warn });
  }

  // --- helpers ---------------------------------------------------------------------------------

  /** A dead owner may have left traffic split; say so when its last state was not final. */
  private unfinishedNote(): string {
    let snapshot: RolloutSnapshot | undefined;
    try {
      snapshot = this.readState();
    } catch {
      return '';
    }
    if (!snapshot || FINAL_PHASES.includes(snapshot.phase)) return '';
    return `; its rollout of plan "${snapshot.plan.name}" stopped unfinished (phase ${snapshot.phase}, stage ${snapshot.stageIndex + 1}, green at ${formatWeight(snapshot.greenWeight)}), so check where traffic stands`;
  }

  /** A newline to put first when a crash left the journal ending mid-line, so the torn bytes stay on their own line. */
  private tornTailFix(): string {
    let fd: number;
    try {
      fd = openSync(this.eventsPath, 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return '';
      throw error;
    }
    try {
      const size = fstatSync(fd).size;
      if (size === 0) return '';
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      return last[0] === 0x0a ? '' : '\n';
    } finally {
      closeSync(fd);
    }
  }
}

/** One page of tmpfs, one block of most disks: a finished line (rarely over 2 KB) fits in it whole. */
const ROOM_BYTES = 4096;

/** Characters of a finished line's reason kept when the whole line has no room: a line of about 300 bytes. */
const CUT_REASON_CHARS = 160;

/** The finished event with its reason cut (after redaction: the store is given redacted events), data kept. */
function cutFinished(event: RolloutEvent): RolloutEvent {
  const start = [...event.message].slice(0, CUT_REASON_CHARS).join('');
  return { ...event, message: `${start}… (cut: the disk had no room for the whole line)` };
}

function moveAside(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}
