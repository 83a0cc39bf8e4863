// A hook's process group: its shell leads it (spawned detached), so -pid reaches everything the hook started.
import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { errorCode } from '../core/errors.js';
import { readProcStat } from '../core/proc-stat.js';

/** Sends `signal` to every process of group `pgid` (0: only asks); whether the group was there to take it. */
export function signalPgid(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The hook's shell leads its own process group (detached), so -pid reaches everything it started. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  if (!signalPgid(child.pid, signal)) child.kill(signal);
}

/** Whether any process of the group still runs. Zombies (killed, not yet reaped by init) do not count. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if (errorCode(error) !== 'EPERM') return false;
  }
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true; // No /proc (not Linux): the kill(0) answer is all there is.
  }
  return pids.some((pid) => {
    const stat = readProcStat(Number(pid));
    return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
  });
}

/**
 * How long a stopped hook's group gets between SIGTERM and SIGKILL (a running hook's, and a dead rollout's left
 * running). Not a plan option: a stopped hook is followed by the ending hook, and both must fit in a CI runner's
 * cancel window (GitHub: SIGINT, SIGTERM 7.5 s later, then SIGKILL, docs/ci.md); a longer grace would only delay
 * blue. Tests inject a shorter one (ExecOptions.killGraceMs, stopOrphanHook's graceMs).
 */
export const HOOK_KILL_GRACE_MS = 2000;

/** How long a SIGKILLed group may take to leave /proc: the kernel ends its members asynchronously (seen under load). */
const KILLED_EXIT_MS = 2000;

/**
 * Resolves when no process of group `pgid` is left: `kill` (SIGKILL to the group unless given) is called after the
 * grace, and the wait goes on until the killed members are gone, for at most KILLED_EXIT_MS more.
 */
export function groupGone(pgid: number, graceMs: number, kill: () => void = () => signalPgid(pgid, 'SIGKILL')): Promise<void> {
  let deadline = performance.now() + graceMs;
  let killed = false;
  return new Promise((resolve) => {
    // No event tells when a group empties; its members are not our children. A short poll, bounded by the grace.
    const check = () => {
      if (!groupAlive(pgid)) return resolve();
      if (performance.now() < deadline) return void setTimeout(check, 20);
      if (killed) return resolve();
      // SIGKILL cannot be caught or ignored: once sent, nothing of the group runs on; its exit still takes a moment.
      kill();
      killed = true;
      deadline = performance.now() + KILLED_EXIT_MS;
      setTimeout(check, 5);
    };
    check();
  });
}
