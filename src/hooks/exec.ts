// exec hooks: a shell command run in the plan folder, told about the event through BLUEGREEN_* variables.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { formatDuration } from '../core/format.js';
import { clip, lastLine, scrubCommandUrls, TailBuffer } from './text.js';
import type { HookEvent, HookOutcome } from './types.js';
import { errorCode, errorText } from '../core/errors.js';
import { readProcStat } from '../core/proc-stat.js';

export interface ExecOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  /** How long a stopped hook gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Told the hook's process group id before its command runs (the CLI records it, to stop it after a crash). */
  onStart?: (pgid: number) => void;
}

const OUTPUT_LIMIT = 4096;
/** After the shell exits, how long to wait for its pipes to drain (a background child may hold them open). */
const STDIO_GRACE_MS = 100;

/** The variables a hook script reads; the weight is also given as a whole percent for shell arithmetic. */
export function hookEnv(event: HookEvent, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    BLUEGREEN_EVENT: event.event,
    BLUEGREEN_PLAN: event.plan,
    BLUEGREEN_STAGE: String(event.stage),
    BLUEGREEN_STAGES: String(event.stages),
    BLUEGREEN_GREEN_WEIGHT: String(event.greenWeight),
    BLUEGREEN_GREEN_PERCENT: String(Math.round(event.greenWeight * 100)),
    BLUEGREEN_BLUE_MODEL: event.blueModel,
    BLUEGREEN_GREEN_MODEL: event.greenModel,
    BLUEGREEN_REASON: event.reason ?? '',
  };
}

/** Runs the command through /bin/sh; resolves once it has exited (or been stopped); never rejects. */
export function runExec(command: string, event: HookEvent, options: ExecOptions): Promise<HookOutcome> {
  const started = performance.now();
  // Scrubbed before it is cut, so a token the cut would split is still found whole.
  const label = `exec ${clip(scrubCommandUrls(command, command), 80)}`;
  const stdout = new TailBuffer(OUTPUT_LIMIT);
  const stderr = new TailBuffer(OUTPUT_LIMIT);
  const outcome = (ok: boolean, message: string, exitCode?: number): HookOutcome => ({
    ok,
    kind: 'exec',
    durationMs: Math.round(performance.now() - started),
    message: scrubCommandUrls(message, command),
    ...(exitCode === undefined ? {} : { exitCode }),
    stdout: stdout.text(),
    stderr: stderr.text(),
  });

  return new Promise((resolve) => {
    if (options.signal?.aborted) {
      resolve(outcome(false, `${label} was not run: the rollout is stopping`));
      return;
    }
    let child: ChildProcess;
    try {
      // detached: the shell leads its own process group, so a timeout can kill everything it started.
      child = spawn('/bin/sh', ['-c', GATE, 'bluegreen-hook', command], {
        cwd: options.cwd,
        env: hookEnv(event, options.env),
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      resolve(outcome(false, startFailure(label, options.cwd, error)));
      return;
    }
    try {
      if (child.pid !== undefined) options.onStart?.(child.pid);
    } catch {
      // Only a record for crash recovery (e.g. a full disk): the hook itself runs on.
    }
    openGate(child);
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

    let stoppedBy: 'timeout' | 'abort' | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const graceMs = options.killGraceMs ?? 2000;
    const stop = (why: 'timeout' | 'abort') => {
      if (stoppedBy || settled) return;
      stoppedBy = why;
      signalGroup(child, 'SIGTERM');
      // Not cleared when the shell exits: children that ignore SIGTERM are still swept. unref'd so it never holds the process.
      setTimeout(() => signalGroup(child, 'SIGKILL'), graceMs).unref();
    };
    const onAbort = () => stop('abort');
    timers.push(setTimeout(() => stop('timeout'), options.timeoutMs));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (result: HookOutcome) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      // What the shell left running in the background (`set-weight 0.5 &`) is stopped too: it could otherwise set a
      // weight after the ending's hook did. A hook is reported only once its whole group is gone.
      const leftBehind = !stoppedBy && child.pid !== undefined && groupAlive(child.pid);
      if (leftBehind) signalGroup(child, 'SIGTERM');
      const reported = leftBehind ? { ...result, message: `${result.message}; what it left running in the background was stopped` } : result;
      if ((stoppedBy || leftBehind) && child.pid !== undefined) void groupGone(child, graceMs).then(() => resolve(reported));
      else resolve(reported);
    };
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      // Scrubbed before lastLine cuts it: a URL cut in its token would keep the token's start.
      const tail = lastLine(scrubCommandUrls(stderr.text(), command)) || lastLine(scrubCommandUrls(stdout.text(), command));
      const detail = tail ? `: ${tail}` : '';
      if (stoppedBy === 'timeout') return finish(outcome(false, `${label} timed out after ${formatDuration(options.timeoutMs)}${detail}`));
      if (stoppedBy === 'abort') return finish(outcome(false, `${label} was stopped: the rollout is stopping`));
      if (code === 0) return finish(outcome(true, `${label} exited 0 in ${formatDuration(performance.now() - started)}`, 0));
      if (code !== null) return finish(outcome(false, `${label} exited ${code}${detail}`, code));
      finish(outcome(false, `${label} was killed by ${signal ?? 'a signal'}${detail}`));
    };
    child.on('error', (error) => finish(outcome(false, startFailure(label, options.cwd, error))));
    child.on('close', exited);
    child.on('exit', (code, signal) => {
      timers.push(setTimeout(() => exited(code, signal), STDIO_GRACE_MS));
    });
  });
}

/**
 * The shell the hook is spawned as waits for "go" on fd 3 before it runs the command (exec: same pid, so same
 * group): onStart records the group first, so a kill -9 of bluegreen never leaves a hook running that hook.json
 * cannot name for recovery to stop. Should bluegreen die before "go", the read meets end of file and the command
 * never runs. fd 3 is closed before the exec, so the command sees the same stdin and fds as an ungated one.
 */
const GATE =
  'IFS= read -r gate <&3 && [ "$gate" = go ] || { echo "bluegreen: hook not run: the rollout that started it is gone" >&2; exit 125; }; exec 3<&-; exec /bin/sh -c "$1"';

function openGate(child: ChildProcess): void {
  const gate = child.stdio[3] as Writable | null | undefined;
  if (!gate) return;
  // EPIPE: the shell is gone already (stopped by an abort); its exit is reported as any other.
  gate.on('error', () => {});
  gate.end('go\n');
}

/** The hook's shell leads its own process group (detached), so -pid reaches everything it started. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Whether any process of the group still runs. Zombies (killed, not yet reaped by init) do not count. */
function groupAlive(pgid: number): boolean {
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

/** Resolves when no process of the group is left: at the latest once the SIGKILL after the grace is sent. */
function groupGone(child: ChildProcess, graceMs: number): Promise<void> {
  const pgid = child.pid as number;
  const deadline = performance.now() + graceMs;
  return new Promise((resolve) => {
    // No event tells when a group empties; its members are not our children. A short poll, bounded by the grace.
    const check = () => {
      if (!groupAlive(pgid)) return resolve();
      if (performance.now() < deadline) return void setTimeout(check, 20);
      // SIGKILL cannot be caught or ignored: once sent, nothing of the group runs on.
      signalGroup(child, 'SIGKILL');
      resolve();
    };
    check();
  });
}

/** spawn reports a missing cwd as "spawn /bin/sh ENOENT", which points at the wrong thing. */
function startFailure(label: string, cwd: string, error: unknown): string {
  if (!existsSync(cwd)) return `${label} could not start: its folder ${cwd} does not exist`;
  return `${label} could not start in ${cwd}: ${errorText(error)}`;
}
