// Writing a report into a named pipe (`mkfifo r; bluegreen rollout … --report-json r`). Opening a pipe for
// writing waits for a reader, synchronously: with none, the finished rollout would hang for good, its signals
// unheard, and a CI job would wait for its own timeout. So a reader is waited for a few seconds, then the report
// fails with a sentence (exit 2 after a promotion, as any report that cannot be written).
import { closeSync, constants, openSync, statSync, writeSync } from 'node:fs';
import { errorCode } from '../../core/errors.js';

const READER_WAIT_MS = 5000;
const POLL_MS = 50;

/** Writes `text` into the file or device in place; a named pipe only once something reads it. */
export function writeInPlace(file: string, text: string, readerWaitMs = READER_WAIT_MS): void {
  const fd = statSync(file).isFIFO() ? openPipe(file, readerWaitMs) : openSync(file, 'w');
  try {
    const bytes = Buffer.from(text, 'utf8');
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
  } finally {
    closeSync(fd);
  }
}

/**
 * A non-blocking open fails with ENXIO while no one reads; once it succeeds, a blocking open returns at once and
 * is the one written through (writes to a non-blocking pipe fail when its buffer is full). The probe is closed
 * only after, so the reader never sees the end of the stream in between.
 */
function openPipe(file: string, readerWaitMs: number): number {
  const deadline = Date.now() + readerWaitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let probe: number;
    try {
      probe = openSync(file, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if (errorCode(error) !== 'ENXIO') throw error;
      if (Date.now() >= deadline) throw new Error(`nothing read the named pipe ${file} within ${readerWaitMs / 1000}s`, { cause: error });
      Atomics.wait(pause, 0, 0, POLL_MS);
      continue;
    }
    try {
      return openSync(file, 'w');
    } finally {
      closeSync(probe);
    }
  }
}
