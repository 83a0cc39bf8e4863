// One process as Linux's /proc/PID/stat describes it: what the launcher chain, a rollout's liveness (a zombie is
// dead), a stopped owner and a hook's process group are read from. Undefined where there is no such process or no
// /proc (not Linux). And how a record names a process (ProcessIdentity), and whether the one it names still runs.
import { readFileSync } from 'node:fs';
import { errorCode } from './errors.js';

export interface ProcStat {
  pid: number;
  /** R running, S sleeping, T stopped (SIGSTOP, Ctrl-Z), Z zombie (dead, not reaped yet), X dead... */
  state: string;
  ppid: number;
  /** Its process group. */
  pgrp: number;
  /** The kernel's short name ("sh", "npm exec blue…"). */
  comm: string;
  /** Start time in clock ticks since boot: with the pid, names one process even if the pid is reused. */
  startTime: string;
  /** Dying (the kernel's PF_EXITING): it has begun to exit, though its state may still read R, S or D. */
  exiting: boolean;
}

/** PF_EXITING in the flags field: set as a process begins to exit, before anything in its exit can sleep. */
const PF_EXITING = 0x4;

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm is in parentheses and may itself hold spaces or parentheses: the last ')' ends it.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // After comm: state(0) ppid(1) pgrp(2) ... flags(6) ... starttime(19).
  const exiting = (Number(fields[6]) & PF_EXITING) !== 0;
  return { pid, state: fields[0] ?? '', ppid: Number(fields[1]), pgrp: Number(fields[2]), comm, startTime: fields[19] ?? '', exiting };
}

/** Dead but not yet reaped by its parent (a killed rollout whose launcher never waits): gone for every purpose. */
function isZombie(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state === 'Z' || state === 'X';
}

/**
 * When `pid` started (clock ticks since boot, /proc/PID/stat field 22): recorded beside a pid so a pid the kernel
 * gave another process since is not taken for the recorded one. Undefined with no such process, or no /proc.
 */
export function processStartTime(pid: number): string | undefined {
  const startTime = readProcStat(pid)?.startTime;
  return startTime === '' ? undefined : startTime;
}

/**
 * A process as a record names it (a lock, state.json, proxy.json, hook.json, a proxy's handover): its pid, with its
 * start time and the boot it runs in where Linux says. A pid alone names whatever process holds it now.
 */
export interface ProcessIdentity {
  pid: number;
  /** Its start time (processStartTime): absent from records before session 21 (22 for proxy.json, hook.json), and off Linux. */
  pidStart?: string;
  /** The boot it runs in (bootId()): start times count from boot, so a record from another boot names no process now. Absent before session 23. */
  bootId?: string;
}

/**
 * This machine's current boot (/proc/sys/kernel/random/boot_id). Undefined without /proc (not Linux). Read on each
 * call, no module state: one small read of /proc, as each liveness check's /proc/PID/stat already is.
 */
export function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** This process as a record names it: its pid, with its start time and boot where /proc has them. */
export function thisProcess(): ProcessIdentity {
  const pidStart = processStartTime(process.pid);
  const boot = bootId();
  return { pid: process.pid, ...(pidStart !== undefined && { pidStart }), ...(boot !== undefined && { bootId: boot }) };
}

/**
 * Whether two records name the same process: the same pid, and the same start time and boot where both say (a
 * record without them, from before they were recorded, is judged by its pid alone).
 */
export function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  const agree = (x: string | undefined, y: string | undefined) => x === undefined || y === undefined || x === y;
  return a.pid === b.pid && agree(a.pidStart, b.pidStart) && agree(a.bootId, b.bootId);
}

/**
 * Whether the process a record names still runs. EPERM from kill(0) means it exists but is someone else's. A zombie
 * (killed, its parent never waited for it: a Python Popen, a stuck supervisor) answers kill(0) but is dead. A record
 * from another boot names no process now, whatever its pid; one whose pid is held by a process started at another
 * time names a dead one (the pid given to another since: pids wrapping on a busy machine).
 */
export function isProcessAlive(recorded: ProcessIdentity): boolean {
  const { pid } = recorded;
  // pid 0 and negatives address process groups in kill(); never treat them as a process.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  const boot = recorded.bootId === undefined ? undefined : bootId();
  if (boot !== undefined && recorded.bootId !== boot) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false;
  }
  if (isZombie(pid)) return false;
  const pidStart = recorded.pidStart === undefined ? undefined : processStartTime(pid);
  return sameProcess(recorded, { pid, ...(pidStart !== undefined && { pidStart }) });
}
