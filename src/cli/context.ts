// Everything a command touches in the outside world, injected so commands run in-process in tests.
import type { Writable } from 'node:stream';
import type { Clock } from '../core/clock.js';
import type { Redactor } from '../core/redact.js';

export interface CliContext {
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Set by a command's action; main() returns it. */
  exitCode: number;
  /**
   * Known secret values (the plan's keys, once a command has loaded it). main() sets it and redacts stdout and
   * stderr through it, so nothing a command prints can carry a key.
   */
  redactor?: Redactor;
  /** The clock a command waits and times on (status --watch); the system clock when absent. */
  clock?: Clock;
  /** Where stop signals (SIGINT, SIGTERM, SIGHUP) come from; this process when absent (tests pass an emitter). */
  signals?: NodeJS.EventEmitter;
  /**
   * The process exits once main() returns and its output is flushed (bin/bluegreen.js), or at once through this: a
   * rollout's hold on stop signals after its end (stop-signals.ts holdSignalsAfterEnd) is then kept to the exit, and a
   * signal while the output drains exits with the rollout's code.
   */
  exitsAfterMain?: (code: number) => void;
}

/**
 * The terminal's width when stdout is one, else undefined: long lines are broken between words there (a terminal's own
 * wrapping cuts them mid-word), never when piped, where a script or log reads each whole.
 */
export function terminalColumns(stdout: CliContext['stdout']): number | undefined {
  return stdout.isTTY ? stdout.columns || undefined : undefined;
}

/**
 * A closed output (`bluegreen rollout … 2>&1 | head -2`, a dead CI log pipe) must not crash a command: the write
 * errors (EPIPE) are swallowed here (a rollout also hears them and rolls back: stop-signals.ts), Node stops writing
 * to the destroyed stream, and the command ends as it would have. Without a listener the error would be thrown as
 * uncaught.
 */
function tolerateClosedOutput(stream: NodeJS.WritableStream): void {
  stream.on('error', () => {});
}

export function processContext(): CliContext {
  tolerateClosedOutput(process.stdout);
  tolerateClosedOutput(process.stderr);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    exitCode: 0,
  };
}
