// One recovery of a state folder at a time, even without the folder's lock. A folder that cannot be written
// (read-only, full, another user's) has no lock to take, yet `bluegreen rollback` puts traffic back on blue there
// all the same: two of them at once both ran on_rollback. Each recovery also holds a Linux abstract socket named
// after the folder (its device and inode, so every path to it agrees): the kernel frees it when the process dies,
// so nothing stale is ever left, and it needs no file anywhere.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { errorCode } from '../core/errors.js';

export interface RecoveryGuard {
  release(): void;
}

/** Another recovery of the folder holds the guard: its pid, when it answered with it. */
export interface RecoveryBusy {
  busy: true;
  pid?: number;
}

/** How long the holder's pid is waited for: the message is still right without it. */
const PID_ANSWER_MS = 2000;

/**
 * Claims the folder's recovery guard; `{ busy }` when another process holds it. Where abstract sockets do not exist
 * (not Linux) or the folder cannot be read, no guard is taken: the lock alone serialises recoveries there.
 */
export async function claimRecoveryGuard(dir: string): Promise<RecoveryGuard | RecoveryBusy> {
  const name = recoveryGuardName(dir);
  if (name === undefined) return { release: () => {} };
  const server = createServer((socket) => {
    // A client gone before its answer is written (EPIPE, ECONNRESET: any local process can connect) must not end
    // the recovery with an uncaught error.
    socket.on('error', () => {});
    socket.end(String(process.pid));
  });
  const bound = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (error) => (errorCode(error) === 'EADDRINUSE' ? resolve(false) : reject(error)));
    server.listen({ path: name }, () => resolve(true));
  }).catch(() => undefined);
  if (bound === undefined) return { release: () => {} };
  if (!bound) return { busy: true, ...(await holderPid(name)) };
  // Held for the recovery's length, but it must never keep the process alive by itself.
  server.unref();
  return { release: () => closeQuietly(server) };
}

/** "\0bluegreen-recovery-<hash of device:inode>", or undefined where there is no such socket or no such folder. */
export function recoveryGuardName(dir: string): string | undefined {
  if (process.platform !== 'linux') return undefined;
  let id: string;
  try {
    const { dev, ino } = statSync(dir, { bigint: true });
    id = `${dev}:${ino}`;
  } catch {
    return undefined;
  }
  return `\0bluegreen-recovery-${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}

/** The holder's pid, as it answers any connection; nothing when it does not answer in time (it may be ending). */
async function holderPid(name: string): Promise<{ pid?: number }> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect({ path: name });
    const done = () => {
      socket.destroy();
      const pid = Number(text);
      resolve(Number.isSafeInteger(pid) && pid > 0 ? { pid } : {});
    };
    socket.setTimeout(PID_ANSWER_MS, done);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk.slice(0, 20)));
    socket.once('end', done);
    socket.once('error', done);
  });
}

function closeQuietly(server: Server): void {
  server.close(() => {});
}
