// Notices when the process that launched bluegreen stops it without telling it. `npx bluegreen …` runs
// npm exec -> /bin/sh -c -> node: npm forwards SIGINT/SIGTERM to the shell only; dash dies of SIGTERM
// (node is re-parented and would go on) and holds SIGINT until node exits (node would never hear of it).
// So, on Linux: the launch chain's death (parent changed, an ancestor up to npm's caller gone) counts as
// SIGTERM, and the relay shell waking up (it sleeps in wait() and catches only SIGINT and SIGCHLD, and
// SIGCHLD comes only when node itself exits or stops) counts as SIGINT. npm itself gone first died of a signal it
// does not pass on, which npm's caller sees (SIGHUP: 129): that counts as SIGHUP. Elsewhere only the parent is watched.
import { readFileSync } from 'node:fs';
import { steadyNow, systemClock, type Clock } from '../core/clock.js';
import { readProcStat } from '../core/proc-stat.js';

export interface LauncherEnd {
  signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP';
  /** Where the stop came from, for the journal ("its launcher npm exec (pid 123) exited"). */
  cause: string;
}

export interface LauncherWatchOptions {
  env: NodeJS.ProcessEnv;
  onEnd: (end: LauncherEnd) => void;
  intervalMs?: number;
  /** Injected for tests; default process.ppid (read fresh each time: it changes when the parent dies). */
  ppid?: () => number;
}

export interface LauncherWatch {
  stop(): void;
  /** The processes watched, nearest first (for messages and tests). */
  readonly chain: readonly ProcessInfo[];
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The kernel's short name ("sh", "npm exec blue…"). */
  comm: string;
  /** Start time in clock ticks since boot: with the pid, names one process even if the pid is reused. */
  startTime: string;
}

const DEFAULT_INTERVAL_MS = 250;
/** How far up to look for npm: sh, npm, and a few wrappers (env, another npm run). */
const MAX_DEPTH = 8;
const SIGINT_BIT = 1n << 1n;

/** Reads /proc/PID/stat; undefined when the process is gone or there is no /proc (not Linux). */
export function processInfo(pid: number): ProcessInfo | undefined {
  const stat = readProcStat(pid);
  return stat && { pid, ppid: stat.ppid, comm: stat.comm, startTime: stat.startTime };
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

function isNpm(info: ProcessInfo): boolean {
  const line = commandLine(info.pid);
  return /^(npm|npx)( |$)/.test(info.comm) || /(^|\/)(npm|npx)(-cli\.js)?( |$)/.test(line) || /^npm (exec|run|x)\b/.test(line);
}

/** The parent, and when npm launched us (it sets npm_command), every ancestor up to npm and npm's own caller. */
export function launchChain(env: NodeJS.ProcessEnv, ppid: number): ProcessInfo[] {
  const parent = processInfo(ppid);
  if (!parent) return [];
  const chain = [parent];
  if (env.npm_command === undefined && env.npm_lifecycle_event === undefined) return chain;
  let current = parent;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (isNpm(current)) {
      const caller = current.ppid > 1 ? processInfo(current.ppid) : undefined;
      // npm's caller is the CI step's shell or the operator's: when it dies, the job was cancelled.
      return caller ? [...chain, caller] : chain;
    }
    const next = current.ppid > 1 ? processInfo(current.ppid) : undefined;
    if (!next) break;
    chain.push(next);
    current = next;
  }
  // No npm found after all: watch the parent alone rather than unrelated ancestors.
  return [parent];
}

function sameProcess(info: ProcessInfo): boolean {
  const now = processInfo(info.pid);
  return now !== undefined && now.startTime === info.startTime;
}

/**
 * A /bin/sh relay (dash) that catches SIGINT: its voluntary context switches count the signals it took. A count
 * is only a reading while the shell sleeps in wait() and is not exiting (undefined otherwise): a shell read before
 * it first went to sleep, or one dying of SIGTERM (whose exit can sleep too), adds a switch that is no SIGINT. The
 * state is read after the count, so a count that includes an exit's sleep is always seen with PF_EXITING set.
 */
function relaySwitches(info: ProcessInfo): (() => number | undefined) | undefined {
  if (info.comm !== 'sh' && info.comm !== 'dash') return undefined;
  const read = (): { caught: bigint; switches: number; asleep: boolean } | undefined => {
    try {
      const status = readFileSync(`/proc/${info.pid}/status`, 'utf8');
      const caught = /^SigCgt:\s*([0-9a-f]+)/m.exec(status)?.[1];
      const switches = /^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1];
      if (caught === undefined || switches === undefined) return undefined;
      const stat = readProcStat(info.pid);
      const asleep = stat !== undefined && stat.startTime === info.startTime && stat.state === 'S' && !stat.exiting;
      return { caught: BigInt(`0x${caught}`), switches: Number(switches), asleep };
    } catch {
      return undefined;
    }
  };
  const first = read();
  if (!first || (first.caught & SIGINT_BIT) === 0n) return undefined;
  return () => {
    const reading = read();
    return reading?.asleep ? reading.switches : undefined;
  };
}

/**
 * A poll of the relay shell's switch count (relaySwitches), each call: true when the shell woke since the last one,
 * a SIGINT. A poll far later than due means this process was stopped (ctrl-z), which wakes the shell too: it only
 * re-baselines. How late is steady time: on the wall clock a step forward between two polls hid a real SIGINT (the
 * count re-baselined past it), and a step back made a ctrl-z's wake-up a SIGINT, ending the rollout.
 */
export function relaySigint(switchCount: () => number | undefined, intervalMs: number, clock: Pick<Clock, 'now' | 'steadyNow'>): () => boolean {
  let lastSwitches = switchCount();
  let lastPoll = steadyNow(clock);
  return () => {
    const at = steadyNow(clock);
    const switches = switchCount();
    const stalled = at - lastPoll > intervalMs * 4;
    lastPoll = at;
    if (switches !== undefined && lastSwitches !== undefined && switches > lastSwitches && !stalled) return true;
    // A reading taken while the shell was awake (handling the SIGINT, say) keeps the last one to compare with.
    if (switches !== undefined) lastSwitches = switches;
    return false;
  };
}

/** "sh (pid 12)", "npm (pid 11)": npm's title ("npm exec blue…", cut at 15 bytes) is shortened to its name. */
function describe(info: ProcessInfo): string {
  return `${info.comm.split(' ')[0]} (pid ${info.pid})`;
}

export function watchLauncher(options: LauncherWatchOptions): LauncherWatch {
  const ppid = options.ppid ?? (() => process.ppid);
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  const originalPpid = ppid();
  const chain = launchChain(options.env, originalPpid);
  const npm = chain.find((info) => isNpm(info));
  const relay = chain[0] && npm ? relaySwitches(chain[0]) : undefined;
  const sigint = relay && relaySigint(relay, intervalMs, systemClock);
  let ended = false;
  const end = (result: LauncherEnd) => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    options.onEnd(result);
  };
  // npm passes SIGINT and SIGTERM on to its child and waits for it: gone first, it died of one it does not pass on,
  // most likely a hangup (`kill -HUP`), and its caller sees 129, so the rollout's record says SIGHUP too (it said 143).
  const launcherGone = (gone: ProcessInfo | undefined): LauncherEnd =>
    gone !== undefined && gone === npm
      ? { signal: 'SIGHUP', cause: `its launcher ${describe(gone)} dying of a signal it does not pass on (a hangup)` }
      : { signal: 'SIGTERM', cause: `its launcher ${gone ? describe(gone) : `(pid ${originalPpid})`} exiting` };
  const poll = () => {
    if (ppid() !== originalPpid) return end(launcherGone(chain[0]));
    const gone = chain.find((info) => !sameProcess(info));
    if (gone) return end(launcherGone(gone));
    if (sigint?.()) return end({ signal: 'SIGINT', cause: `SIGINT to its launcher ${npm ? describe(npm) : ''}`.trim() });
  };
  const timer = setInterval(poll, intervalMs);
  timer.unref();
  return {
    chain,
    stop() {
      ended = true;
      clearInterval(timer);
    },
  };
}
