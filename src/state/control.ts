// Operator requests from other terminals (`bluegreen pause|resume|promote|abort`): one file per request in
// <dir>/control/, written atomically by the requester and consumed (read, then deleted) by the running rollout.
import os from 'node:os';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TimerHandle } from '../core/clock.js';
import { CliError, EXIT } from '../core/exit.js';
import { parseObject } from '../core/json.js';
import { errorCode, errorText } from '../core/errors.js';
import { readRegularFile } from '../core/read-regular-file.js';
import { CONTROL_DIR, uniqueSuffix, writeFileAtomic } from './files.js';
import { isOwnerAlive, type LockInfo } from './lock.js';

/** A request is one short JSON line; anything far larger was not written by bluegreen. */
const MAX_CONTROL_BYTES = 64 * 1024;

export const CONTROL_ACTIONS = ['pause', 'resume', 'promote', 'abort'] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

export interface ControlRequest {
  action: ControlAction;
  user: string;
  host: string;
  pid: number;
  /** Epoch ms when it was asked. */
  at: number;
}

export function controlDir(dir: string): string {
  return path.join(dir, CONTROL_DIR);
}

/**
 * Files are named by zero-padded time, then a monotonic counter (so requests made in the same millisecond by one
 * process keep their order), then pid and randomness for uniqueness; a name sort is a time sort.
 */
export function writeControl(dir: string, request: ControlRequest): string {
  const folder = controlDir(dir);
  mkdirSync(folder, { recursive: true });
  const stamp = String(Math.max(0, Math.floor(request.at))).padStart(15, '0');
  const tick = process.hrtime.bigint().toString().padStart(20, '0');
  const file = path.join(folder, `${stamp}-${tick}-${uniqueSuffix()}.json`);
  writeFileAtomic(file, `${JSON.stringify(request)}\n`);
  return file;
}

/** Pending requests in the order they were made; each file is deleted once read, valid or not. */
export function takeControlRequests(dir: string, warn: (message: string) => void): ControlRequest[] {
  const folder = controlDir(dir);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const requests: { request: ControlRequest; name: string }[] = [];
  // Dot files are writers' temp files, not yet renamed into place.
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
    const file = path.join(folder, name);
    let text: string;
    try {
      // A named pipe put here would hold open() for good, and the running rollout with it, deaf to signals.
      text = readRegularFile(file, MAX_CONTROL_BYTES).toString('utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue;
      warn(`skipped control request ${file}: ${errorText(error)}`);
      // Removed like an invalid request, so it is not read again at every poll.
      rmSync(file, { force: true, recursive: true });
      continue;
    }
    // Deleted before acting, so a request is never applied twice even if the rollout stops right after.
    rmSync(file, { force: true });
    const request = parseControl(text);
    if (request) requests.push({ request, name });
    else warn(`skipped control request ${file}: not a valid request (${CONTROL_ACTIONS.join('|')} with user, host, pid, at)`);
  }
  return requests.sort((a, b) => a.request.at - b.request.at || (a.name < b.name ? -1 : 1)).map((r) => r.request);
}

export interface ControlWatch {
  stop(): void;
}

export interface WatchControlOptions {
  /** The engine's clock (or any one-shot timer source). */
  timers: { setTimer(fn: () => void, ms: number): TimerHandle };
  intervalMs?: number;
  warn: (message: string) => void;
}

/** Polls the control folder; a failing poll warns instead of stopping the watch. */
export function watchControl(dir: string, onRequest: (request: ControlRequest) => void, options: WatchControlOptions): ControlWatch {
  const intervalMs = options.intervalMs ?? 250;
  let stopped = false;
  let timer: TimerHandle | undefined;
  const poll = () => {
    if (stopped) return;
    try {
      for (const request of takeControlRequests(dir, options.warn)) onRequest(request);
    } catch (error) {
      options.warn(`could not read control requests in ${controlDir(dir)}: ${errorText(error)}`);
    }
    if (!stopped) timer = options.timers.setTimer(poll, intervalMs);
  };
  timer = options.timers.setTimer(poll, intervalMs);
  return {
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}

/**
 * For pause|resume|promote|abort: the running rollout's lock, or a clear reason there is nobody to ask. `lock` is the
 * folder's lock as the caller read it (readLock), once: read again, it could name another process than the one the
 * caller's own checks judged.
 */
export function controlTargetCheck(dir: string, lock: LockInfo | undefined, host: string = os.hostname()): LockInfo {
  if (!lock) throw new CliError(`no rollout is running in ${dir}`, EXIT.usage);
  if (!isOwnerAlive(lock, host)) {
    throw new CliError(`the rollout in ${dir} (pid ${lock.pid}) is no longer running`, EXIT.usage);
  }
  return lock;
}

function parseControl(text: string): ControlRequest | undefined {
  const value = parseObject(text);
  if (!value) return undefined;
  const { action, user, host, pid, at } = value;
  if (typeof action !== 'string' || !(CONTROL_ACTIONS as readonly string[]).includes(action)) return undefined;
  if (typeof user !== 'string' || typeof host !== 'string') return undefined;
  if (typeof pid !== 'number' || typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  return { action: action as ControlAction, user, host, pid, at };
}
