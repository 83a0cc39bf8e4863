// One process as Linux's /proc/PID/stat describes it: what the launcher chain, a rollout's liveness (a zombie is
// dead), a stopped owner and a hook's process group are read from. Undefined where there is no such process or no
// /proc (not Linux).
import { readFileSync } from 'node:fs';

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
export function isZombie(pid: number): boolean {
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

/** This process as a record names it (a lock, state.json, proxy.json, hook.json): its pid, with its start time where /proc has it. */
export function thisProcess(): { pid: number; pidStart?: string } {
  const pidStart = processStartTime(process.pid);
  return pidStart === undefined ? { pid: process.pid } : { pid: process.pid, pidStart };
}
