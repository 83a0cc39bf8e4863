// Exiting with output still queued cuts it: stdout to a pipe takes 64 KiB at once and queues the rest, which
// process.exit() drops. So the CLI waits until what it wrote has been handed to the OS, then exits.

export interface FlushableStream {
  write(chunk: string, callback: (error?: Error | null) => void): boolean;
  writableLength?: number;
  destroyed?: boolean;
  once(event: 'close' | 'error', listener: () => void): unknown;
}

/** Resolves once everything written to the stream so far has left the process (or the stream has closed). */
function flushStream(stream: FlushableStream): Promise<void> {
  if (stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    // Writes complete in order, so an empty write's callback runs after every earlier write. A reader that went
    // away (EPIPE) ends the wait too: there is no one left to write to.
    stream.once('close', resolve);
    stream.once('error', () => resolve());
    try {
      stream.write('', () => resolve());
    } catch {
      resolve();
    }
  });
}

/** Sets the exit code, waits for stdout and stderr to drain, then exits. */
export async function exitWhenFlushed(
  code: number,
  streams: FlushableStream[] = [process.stdout, process.stderr],
  exit: (code: number) => void = (c) => process.exit(c),
): Promise<void> {
  process.exitCode = code;
  await Promise.all(streams.map(flushStream));
  exit(code);
}
