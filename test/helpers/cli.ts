// Runs the CLI in-process with captured output and an injected environment.
import { PassThrough } from 'node:stream';
import type { CliContext } from '../../src/cli/context.js';
import type { Clock } from '../../src/core/clock.js';
import { main } from '../../src/cli/main.js';
import { StateStore } from '../../src/state/index.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function testContext(options: { cwd: string; env?: NodeJS.ProcessEnv; tty?: boolean; clock?: Clock }): CliContext & {
  out: () => string;
  err: () => string;
} {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return {
    stdout: Object.assign(stdout, { isTTY: options.tty ?? false }),
    stderr,
    stdin: new PassThrough(),
    env: { PATH: process.env.PATH, ...options.env },
    cwd: options.cwd,
    exitCode: 0,
    ...(options.clock && { clock: options.clock }),
    out: () => out,
    err: () => err,
  };
}

export async function runCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; clock?: Clock }): Promise<CliRun> {
  const ctx = testContext(options);
  const code = await main(['node', 'bluegreen', ...args], ctx);
  return { code, stdout: ctx.out(), stderr: ctx.err() };
}

/**
 * The warnings a rollout journaled as it started (right after rollout_started, where the dashboard shows them), from
 * its state folder's journal.
 */
export function startWarnings(stateDir: string): string[] {
  const events = new StateStore(stateDir).readEvents();
  const started = events.findIndex((event) => event.type === 'rollout_started');
  const after = events.slice(started + 1);
  const end = after.findIndex((event) => event.type !== 'warning');
  return (end === -1 ? after : after.slice(0, end)).map((event) => event.message);
}
