// Writing a report into a named pipe (`mkfifo r; bluegreen rollout … --report-json r`, or /dev/stdout under a
// pipe). Two ways it could hang the finished rollout for good, its signals unheard (the write is synchronous) and
// a CI job waiting for its own timeout: no reader opens the pipe, or one opens it and never reads (`sleep 100 < r`)
// while the report is larger than the pipe's buffer (64 KiB). So the pipe is written without blocking: a reader is
// waited for a few seconds, and a reader that takes nothing for a few seconds is given up on. Either way the report
// fails with a sentence (exit 2 after a promotion, as any report that cannot be written).
import { appendFileSync, closeSync, constants, openSync, statSync, writeSync } from 'node:fs';
import { steadyNow, systemClock, type Clock } from '../../core/clock.js';
import { formatCount } from '../../core/format.js';
import { errorCode } from '../../core/errors.js';
import { syncBackoff } from '../../core/sync-backoff.js';

const READER_WAIT_MS = 5000;
const STALL_MS = 5000;
/** Waits between tries grow from 1 ms to this: a reader draining the pipe is kept up with, an idle one not spun on. */
const POLL_MS = 50;

export interface PipeWaits {
  /** How long a reader is waited for. */
  readerWaitMs?: number;
  /** How long a reader may take nothing (a full pipe) before the write is given up. */
  stallMs?: number;
  /** Times both waits on its steady clock (a wall clock stepped mid-wait would stretch or end them); the system clock by default. */
  clock?: Pick<Clock, 'now' | 'steadyNow'>;
}

/** Writes `text` into the file or device in place; a named pipe only while something reads it. */
export function writeInPlace(file: string, text: string, waits: PipeWaits = {}): void {
  const bytes = Buffer.from(text, 'utf8');
  if (statSync(file).isFIFO()) return writePipe(file, bytes, waits);
  const fd = openSync(file, 'w');
  try {
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends `text` to a file, created if missing ($GITHUB_STEP_SUMMARY); a named pipe there is written as writeInPlace
 * writes one, so a pipe nothing reads fails with a sentence instead of blocking the finished rollout for good.
 */
export function appendInPlace(file: string, text: string, waits: PipeWaits = {}): void {
  if (isPipe(file)) return writePipe(file, Buffer.from(text, 'utf8'), waits);
  appendFileSync(file, text);
}

function isPipe(file: string): boolean {
  try {
    return statSync(file).isFIFO();
  } catch {
    // Not there yet (it will be created) or not to be looked at: the append says what is wrong.
    return false;
  }
}

function writePipe(file: string, bytes: Buffer, { readerWaitMs = READER_WAIT_MS, stallMs = STALL_MS, clock = systemClock }: PipeWaits): void {
  const fd = openPipe(file, readerWaitMs, clock);
  const written = (done: number) => `${formatCount(done)} of ${formatCount(bytes.length)} bytes`;
  try {
    const idle = syncBackoff(POLL_MS);
    let done = 0;
    let tookAt = steadyNow(clock);
    while (done < bytes.length) {
      try {
        done += writeSync(fd, bytes, done);
        tookAt = steadyNow(clock);
        idle.reset();
        continue;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'EPIPE') throw new Error(`the reader of the named pipe ${file} closed it after ${written(done)}`, { cause: error });
        if (code !== 'EAGAIN') throw error;
      }
      if (steadyNow(clock) - tookAt >= stallMs)
        throw new Error(`the reader of the named pipe ${file} took nothing for ${stallMs / 1000}s (${written(done)} written): it stopped reading`);
      idle.wait();
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Opened without blocking: that fails with ENXIO while no one reads, and once it succeeds the descriptor is
 * written through as it is, so a full pipe answers EAGAIN instead of blocking.
 */
function openPipe(file: string, readerWaitMs: number, clock: Pick<Clock, 'now' | 'steadyNow'>): number {
  const deadline = steadyNow(clock) + readerWaitMs;
  const idle = syncBackoff(POLL_MS);
  for (;;) {
    try {
      return openSync(file, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if (errorCode(error) !== 'ENXIO') throw error;
      if (steadyNow(clock) >= deadline) throw new Error(`nothing read the named pipe ${file} within ${readerWaitMs / 1000}s`, { cause: error });
      idle.wait();
    }
  }
}
