// Reading a plan file's bytes into text, refusing what is not a plan before the YAML parser sees it: too big,
// binary, or not UTF-8 (a Latin-1 byte would otherwise become U+FFFD inside a model name).
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync, statSync } from 'node:fs';
import { steadyNow, systemClock, type Clock } from '../core/clock.js';
import { PlanError } from './errors.js';
import { errorCode, SYMLINK_LOOP } from '../core/errors.js';
import { syncBackoff } from '../core/sync-backoff.js';
import { decodeText } from '../core/text-bytes.js';

/** A plan is a page or two of YAML; a megabyte is already far beyond any real one. */
const MAX_PLAN_BYTES = 1024 * 1024;

/** How long a named pipe is waited for its first bytes (`bluegreen validate p & envsubst < plan.tmpl > p`). */
const PIPE_WRITER_WAIT_MS = 5000;
/** Waits between reads of a pipe grow from 1 ms to this. */
const POLL_MS = 50;

/** `clock` times a named pipe's writer wait on its steady clock (a wall clock stepped mid-wait would stretch or end it). */
export function readPlanText(
  file: string,
  shown = file,
  pipeWriterWaitMs = PIPE_WRITER_WAIT_MS,
  clock: Pick<Clock, 'now' | 'steadyNow'> = systemClock,
): string {
  let bytes: Buffer;
  try {
    bytes = readAtMost(file, MAX_PLAN_BYTES + 1, pipeWriterWaitMs, clock);
  } catch (error) {
    if (error instanceof PipeUnwrittenError) throw problem(shown, 1, 1, error.message);
    const code = errorCode(error);
    if (code === 'ENXIO' && isSocket(file)) throw problem(shown, 1, 1, SOCKET_PLAN);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'ELOOP' ? SYMLINK_LOOP : (code ?? 'unreadable');
    throw problem(shown, 1, 1, `cannot read the file (${why})`);
  }
  return planTextFromBytes(bytes, shown);
}

/**
 * Linux refuses to open a socket by name (ENXIO), and a program that starts bluegreen with piped stdio (Node's
 * spawn, Python's subprocess) gives it a socket pair as /dev/stdin, where a shell's `|` gives a pipe, which opens.
 */
const SOCKET_PLAN =
  'cannot read the file: it is a socket (as /dev/stdin is when a program, not a shell, pipes into bluegreen), which cannot be opened by name; ' +
  'pass the plan as a file, or through a shell pipe (`cat plan.yaml | bluegreen validate /dev/stdin`)';

function isSocket(file: string): boolean {
  try {
    return statSync(file).isSocket();
  } catch {
    return false;
  }
}

class PipeUnwrittenError extends Error {}

/**
 * The file's first `limit` bytes. Never more: /dev/zero, a pipe that never ends or a 10 GB file are read only
 * as far as it takes to refuse them (readFileSync would read them whole, or forever). Opened and read without
 * blocking: a named pipe with no writer held open() for good, in a call nothing interrupts (not a signal's handler,
 * not the proxy's worker.terminate(), not process.exit, which waits for the worker), so `bluegreen proxy` on one
 * ignored Ctrl-C and SIGTERM. A pipe is polled instead: a named pipe's writer is waited for up to `writerWaitMs`, then its
 * bytes for as long as it stays open (a signal stops that wait). No effect on a file.
 */
/**
 * A pipe(2) (`cat plan | bluegreen validate /dev/stdin`, `<(...)`): its writer opened it before any reader could, so
 * reading it as ended means it ended. Linux names it `pipe:[inode]` in /proc; elsewhere it is taken for a named pipe.
 */
function anonymousPipe(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`).startsWith('pipe:');
  } catch {
    return false;
  }
}

function readAtMost(file: string, limit: number, writerWaitMs: number, clock: Pick<Clock, 'now' | 'steadyNow'>): Buffer {
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const namedPipe = fstatSync(fd).isFIFO() && !anonymousPipe(fd);
    const deadline = steadyNow(clock) + writerWaitMs;
    const idle = syncBackoff(POLL_MS);
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.alloc(64 * 1024);
    while (total < limit) {
      let read: number;
      try {
        read = readSync(fd, chunk, 0, Math.min(chunk.length, limit - total), null);
      } catch (error) {
        // A pipe whose writer has written nothing more yet.
        if (errorCode(error) !== 'EAGAIN') throw error;
        idle.wait();
        continue;
      }
      if (read === 0 && namedPipe && total === 0) {
        // A named pipe with no writer reads as ended: before its first byte, its writer may not have opened it yet.
        if (steadyNow(clock) >= deadline) throw new PipeUnwrittenError(`nothing wrote to this named pipe within ${writerWaitMs / 1000}s`);
        idle.wait();
        continue;
      }
      if (read === 0) break;
      idle.reset();
      chunks.push(Buffer.from(chunk.subarray(0, read)));
      total += read;
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function planTextFromBytes(bytes: Buffer, shown: string): string {
  if (bytes.length > MAX_PLAN_BYTES) {
    throw problem(shown, 1, 1, `the file is more than ${MAX_PLAN_BYTES} bytes; a plan may be at most 1 MiB`);
  }
  const decoded = decodeText(bytes);
  if (typeof decoded === 'string') return decoded;
  const { line, col } = decoded;
  if (decoded.kind === 'nul') throw problem(shown, line, col, 'this is a binary file (it holds a NUL byte), not a YAML plan');
  throw problem(shown, line, col, `the file is not UTF-8 (byte 0x${decoded.byte.toString(16).padStart(2, '0')} here); save it as UTF-8`);
}

function problem(file: string, line: number, col: number, message: string): PlanError {
  return new PlanError([{ file, line, col, keyPath: '', message }]);
}
