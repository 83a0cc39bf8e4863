// Everything a command touches in the outside world, injected so commands run in-process in tests.
import type { Writable } from 'node:stream';
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
}

export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    exitCode: 0,
  };
}
