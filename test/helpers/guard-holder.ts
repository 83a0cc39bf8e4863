// A process holding a state folder's recovery guard (src/state/recovery-guard.ts) until the test ends. Any local
// process can bind the guard's name and answer what it likes: a squatter answers its own pid, or another's. With
// `asBluegreen` its command line names bluegreen's bin, as a lock-free `bluegreen rollback` of a folder its user
// cannot write does (another user's: the tests cannot run one as another user everywhere).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { recoveryGuardName } from '../../src/state/recovery-guard.js';
import { BIN } from '../e2e/helpers.js';
import { killAfterTest } from './processes.js';

const HOLDER = `
const [name, answer] = process.argv.slice(1);
require('node:net')
  .createServer((socket) => {
    socket.on('error', () => {});
    socket.end(answer === 'self' ? String(process.pid) : answer);
  })
  .listen({ path: '\\0' + name }, () => process.stdout.write('holding\\n'));
`;

/** Binds `dir`'s guard; resolves once it is held (rejects should the process end first, the name taken). */
export async function holdRecoveryGuard(dir: string, options: { answer?: number; asBluegreen?: boolean } = {}): Promise<ChildProcess> {
  const name = recoveryGuardName(dir);
  if (name === undefined) throw new Error(`no recovery guard for ${dir} here`);
  const args = ['-e', HOLDER, name.slice(1), String(options.answer ?? 'self'), ...(options.asBluegreen === true ? [BIN] : [])];
  const holder = killAfterTest(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  const ended = once(holder, 'exit').then(([code]) => {
    throw new Error(`the guard holder ended (exit ${String(code)}) before it held the guard`);
  });
  await Promise.race([once(holder.stdout, 'data'), ended]);
  return holder;
}

/**
 * A process that runs until the test ends whose command line names bluegreen's bin: a bluegreen, as /proc tells.
 * Resolves once it runs its own code (before its exec, /proc shows this process's command line).
 */
export async function bluegreenLookalike(): Promise<ChildProcess> {
  const child = killAfterTest(
    spawn(process.execPath, ['-e', "process.stdout.write('up\\n'); setInterval(() => {}, 1e9)", BIN], { stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  await once(child.stdout, 'data');
  return child;
}
