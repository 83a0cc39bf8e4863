// One recovery of a state folder at a time, even without the folder's lock. A folder that cannot be written
// (read-only, full, another user's) has no lock to take, yet `bluegreen rollback` puts traffic back on blue there
// all the same: two of them at once both ran on_rollback. Each recovery also holds a Linux abstract socket named
// after the folder (its device and inode, so every path to it agrees): the kernel frees it when the process dies,
// so nothing stale is ever left, and it needs no file anywhere.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { isBluegreenProcess } from '../core/bluegreen-process.js';
import { errorCode } from '../core/errors.js';
import { isProcessAlive } from '../core/proc-stat.js';

export interface RecoveryGuard {
  release(): void;
}

/** Another recovery of the folder holds the guard: its pid, when it answered with it. */
export interface RecoveryBusy {
  busy: true;
  pid?: number;
  /**
   * Whether that pid is a living bluegreen that holds the guard (as far as its descriptors can be read): false for a
   * squatter (any local process can bind the name), a holder that did not answer, or one that named another process.
   */
  bluegreen: boolean;
}

/** How long the holder's pid is waited for by default: a refusal's message is still right without it. */
const PID_ANSWER_MS = 2000;

/**
 * Claims the folder's recovery guard; `{ busy }` when another process holds it. Where abstract sockets do not exist
 * (not Linux) or the folder cannot be read, no guard is taken: the lock alone serialises recoveries there.
 */
export async function claimRecoveryGuard(dir: string, answerMs = PID_ANSWER_MS): Promise<RecoveryGuard | RecoveryBusy> {
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
  if (!bound) {
    const { pid } = await holderPid(name, answerMs);
    return { busy: true, ...(pid !== undefined && { pid }), bluegreen: pid !== undefined && isBluegreenHolder(pid, name) };
  }
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
async function holderPid(name: string, answerMs: number): Promise<{ pid?: number }> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect({ path: name });
    const done = () => {
      socket.destroy();
      const pid = Number(text);
      resolve(Number.isSafeInteger(pid) && pid > 0 ? { pid } : {});
    };
    socket.setTimeout(answerMs, done);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk.slice(0, 20)));
    socket.once('end', done);
    socket.once('error', done);
  });
}

/** A living bluegreen process, holding the socket bound to `name` unless its descriptors are not ours to read. */
function isBluegreenHolder(pid: number, name: string): boolean {
  return isProcessAlive({ pid }) && isBluegreenProcess(pid) && holdsSocket(pid, name) !== false;
}

/**
 * Whether `pid` has the socket bound to `name` open (its inodes in /proc/net/unix, among /proc/PID/fd's links), so a
 * squatter cannot answer with a bluegreen's pid; undefined where its descriptors cannot be read (another user's).
 */
function holdsSocket(pid: number, name: string): boolean | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const inodes = socketInodes(name);
  return fds.some((fd) => {
    try {
      return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // Closed since it was listed.
      return false;
    }
  });
}

/** "socket:[INODE]" of every socket bound to the abstract `name` ("\0…", listed as "@…" in /proc/net/unix). */
function socketInodes(name: string): Set<string> {
  const listed = `@${name.slice(1)}`;
  const inodes = new Set<string>();
  let table: string;
  try {
    table = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return inodes;
  }
  // "Num RefCount Protocol Flags Type St Inode Path"; node binds an abstract name padded with NULs to the address's
  // full length, each listed as "@" too.
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[7]?.replace(/@+$/, '') === listed) inodes.add(`socket:[${fields[6]}]`);
  }
  return inodes;
}

function closeQuietly(server: Server): void {
  server.close(() => {});
}
