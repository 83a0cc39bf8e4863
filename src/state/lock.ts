// The lock file: one rollout per state folder. Created with O_EXCL so two starts cannot both win.
import { closeSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { CliError, EXIT } from '../core/exit.js';
import { parseObject } from '../core/json.js';
import { describeFsError, errorCode } from '../core/errors.js';
import { LOCK_FILE, makeFolder } from './files.js';
import { isProcessAlive, type ProcessIdentity } from '../core/proc-stat.js';
import { IrregularFileError, readRegularFile } from '../core/read-regular-file.js';

/** The owner (its pid, start time and boot: ProcessIdentity), and what it runs. */
export interface LockInfo extends ProcessIdentity {
  planName: string;
  startedAt: number;
  user: string;
  host: string;
}

/** What the file holds: the owner plus a token naming this very acquisition, so release never removes a successor's lock. */
interface LockRecord extends LockInfo {
  token: string;
}

export interface LockHandle {
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): void;
  /** Set when a dead owner's lock was taken over; worth showing the operator. */
  warning?: string;
}

export interface LockEnv {
  now: () => number;
  /** This machine's name: a pid can only be checked on the host that owns it. */
  host: string;
}

export class LockHeldError extends CliError {
  constructor(
    message: string,
    readonly lock?: LockInfo,
  ) {
    super(message, EXIT.usage);
    this.name = 'LockHeldError';
  }
}

/**
 * The lock could not be created or written: the folder is read-only, full or another user's. No one holds it, and
 * no other bluegreen can take it either while that lasts.
 */
export class LockUnwritableError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'LockUnwritableError';
  }
}

/** A lock that does not parse and is younger than this may be mid-write by a concurrent start. */
const UNREADABLE_GRACE_MS = 2000;
/** A takeover guard older than this was left by a crash during a takeover. */
const TAKEOVER_GUARD_STALE_MS = 10_000;

/** On another host the pid means nothing here, so the owner is presumed alive: refusing beats stealing. */
export function isOwnerAlive(lock: LockInfo, host: string): boolean {
  if (lock.host !== host) return true;
  return isProcessAlive(lock);
}

export function lockPath(dir: string): string {
  return path.join(dir, LOCK_FILE);
}

/** The lock's owner, or undefined when there is no lock or it cannot be read (e.g. mid-write). */
export function readLock(dir: string): LockInfo | undefined {
  const text = readText(lockPath(dir));
  return text === undefined ? undefined : parseLock(text);
}

/** "plan "x", pid 1234, started 12:00:01 by alice@host" */
export function describeOwner(lock: LockInfo, now: number): string {
  const who = lock.user.includes('@') ? lock.user : `${lock.user}@${lock.host}`;
  return `plan "${lock.planName}", pid ${lock.pid}, started ${formatClockTime(lock.startedAt, now)} by ${who}`;
}

export function acquireLock(dir: string, info: LockInfo, env: LockEnv): LockHandle {
  try {
    makeFolder(dir);
  } catch (error) {
    // "EEXIST: file already exists, mkdir" said nothing useful about `--state-dir plan.yaml`.
    const why = errorCode(error) === 'EEXIST' ? `${dir} is a file, not a folder` : describeFsError(error, path.join(dir, 'state.json'));
    throw new CliError(`cannot create the state folder ${dir}: ${why}`, EXIT.usage);
  }
  const file = lockPath(dir);
  const record: LockRecord = { ...info, token: randomBytes(8).toString('hex') };
  let warning: string | undefined;
  // A few rounds: the lock may vanish or change hands between our create and our read.
  for (let round = 0; round < 5; round++) {
    if (tryCreate(file, JSON.stringify(record))) return handle(file, record.token, warning);
    const text = readText(file);
    if (text === undefined) continue;
    const owner = parseLock(text);
    if (owner && isOwnerAlive(owner, env.host)) throw heldError(dir, owner, env);
    if (!owner && ageMs(file) < UNREADABLE_GRACE_MS) {
      throw new LockHeldError(`${file} is being written by another bluegreen (or is damaged); try again in a moment, or delete it if no rollout is running`);
    }
    if (takeOver(file, text, record)) {
      warning = owner ? `took over the lock of pid ${owner.pid}, which is no longer running` : `took over ${file}, which could not be read (left by a crash?)`;
      return handle(file, record.token, warning);
    }
  }
  throw new LockHeldError(`could not take ${file}: other bluegreen processes keep changing it; try again`);
}

function heldError(dir: string, owner: LockInfo, env: LockEnv): LockHeldError {
  const file = lockPath(dir);
  const elsewhere =
    owner.host === env.host ? '' : ` (on host ${owner.host}, where bluegreen cannot check the process; delete the lock if that rollout is gone)`;
  return new LockHeldError(
    `another rollout (${describeOwner(owner, env.now())}) holds ${file}${elsewhere}; wait for it or stop it (bluegreen abort --state-dir ${dir})`,
    owner,
  );
}

/**
 * Replaces a dead owner's lock. A small guard file serialises takeovers, and the lock is re-read under it,
 * so two starts racing on the same stale lock cannot both delete-and-create and both believe they hold it.
 */
function takeOver(file: string, staleText: string, record: LockRecord): boolean {
  const guard = `${file}.takeover`;
  if (!tryCreate(guard, String(record.pid))) {
    if (ageMs(guard) < TAKEOVER_GUARD_STALE_MS) {
      throw new LockHeldError(`another bluegreen is taking over the stale lock ${file} right now; try again in a moment`);
    }
    rmSync(guard, { force: true });
    return false;
  }
  try {
    if (readText(file) !== staleText) return false;
    rmSync(file, { force: true });
    return tryCreate(file, JSON.stringify(record));
  } finally {
    rmSync(guard, { force: true });
  }
}

function handle(file: string, token: string, warning: string | undefined): LockHandle {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const text = readText(file);
    const current = text === undefined ? undefined : parseObject(text);
    if (current?.token === token) rmSync(file, { force: true });
  };
  return warning === undefined ? { release } : { release, warning };
}

function tryCreate(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    // A read-only or foreign-owned state folder is the operator's to fix, not a bug.
    throw new LockUnwritableError(`cannot create ${file}: ${describeFsError(error, file)}`);
  }
  try {
    writeFileSync(fd, text);
  } catch (error) {
    // Ours, created just now: an empty lock left behind (a full disk) would only confuse the next start.
    rmSync(file, { force: true });
    throw new LockUnwritableError(`cannot write ${file}: ${describeFsError(error, file)}`);
  } finally {
    closeSync(fd);
  }
  return true;
}

const MAX_LOCK_BYTES = 64 * 1024;

function readText(file: string): string | undefined {
  try {
    // A named pipe in its place would hold open() for good; a lock is a few lines.
    return readRegularFile(file, MAX_LOCK_BYTES).toString('utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    // No bluegreen can take such a lock; a rollback still puts traffic on blue without it.
    if (error instanceof IrregularFileError) throw new LockUnwritableError(`${error.message}: not a lock bluegreen wrote; remove it if no rollout is running`);
    throw error;
  }
}

/** Compared with the wall clock on purpose: mtimes come from it, not from the injected clock. */
function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function parseLock(text: string): LockInfo | undefined {
  const value = parseObject(text);
  if (!value) return undefined;
  const { pid, planName, startedAt, user, host, pidStart, bootId } = value;
  if (typeof pid !== 'number' || typeof startedAt !== 'number') return undefined;
  if (typeof planName !== 'string' || typeof user !== 'string' || typeof host !== 'string') return undefined;
  return {
    pid,
    planName,
    startedAt,
    user,
    host,
    ...(typeof pidStart === 'string' && { pidStart }),
    ...(typeof bootId === 'string' && { bootId }),
  };
}

/** "12:00:01" today, "2026-01-02 12:00:01" on another day (local time, as the operator reads it). */
function formatClockTime(at: number, now: number): string {
  const date = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const day = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return day(date) === day(new Date(now)) ? time : `${day(date)} ${time}`;
}
