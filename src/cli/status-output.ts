// `status` is read by people and scripts: output that could not be written (`> /dev/full`, a reader that went
// away) must not end as if it had been read, with exit 0 or, under --watch, the rollout's own code. Each write is
// awaited, and one that fails ends the command with a sentence on stderr and exit 2.
import type { Writable } from 'node:stream';
import { errorCode, errorText } from '../core/errors.js';

export class OutputError extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = 'OutputError';
  }
}

/** Resolves once `text` has been handed to the OS; rejects with an OutputError saying why it could not be. */
export function writeOut(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => reject(new OutputError(outputProblem(error)));
    // A stream that already failed (its reader went away) takes no more writes: Node would only queue them.
    if (stream.destroyed || stream.errored) return fail(stream.errored ?? Object.assign(new Error('closed'), { code: 'ERR_STREAM_DESTROYED' }));
    try {
      stream.write(text, (error) => (error ? fail(error) : resolve()));
    } catch (error) {
      fail(error);
    }
  });
}

function outputProblem(error: unknown): string {
  switch (errorCode(error)) {
    case 'ENOSPC':
      return 'no space left on the device it writes to';
    case 'EPIPE':
    case 'ECONNRESET':
      return 'its reader went away';
    case 'ERR_STREAM_DESTROYED':
    case 'ERR_STREAM_WRITE_AFTER_END':
      return 'it is closed';
    case 'EBADF':
      return 'it is not open for writing';
    default:
      return errorText(error);
  }
}
