// exec hooks: a shell command run in the plan folder, told about the event through BLUEGREEN_* variables.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { formatDuration } from '../core/format.js';
import { clip, lastLine, scrubCommand, TailBuffer } from './text.js';
import type { HookEvent, HookOutcome } from './types.js';
import { errorText } from '../core/errors.js';
import { groupAlive, groupGone, HOOK_KILL_GRACE_MS, signalGroup } from './process-group.js';
import { greenPercent } from './percent.js';

export interface ExecOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  /** How long a stopped hook gets between SIGTERM and SIGKILL; default HOOK_KILL_GRACE_MS. */
  killGraceMs?: number;
  /** Told the hook's process group id before its command runs (the CLI records it, to stop it after a crash). */
  onStart?: (pgid: number) => void;
  /** Removes known secrets from the hook's output before it is cut into a message (a cut key would keep its start). */
  redact?: (text: string) => string;
}

const OUTPUT_LIMIT = 4096;
/** After the shell exits, how long to wait for its pipes to drain (a background child may hold them open). */
const STDIO_GRACE_MS = 100;

/** The variables a hook script reads; the weight is also given as a whole percent for shell arithmetic (validate warns when that rounds). */
export function hookEnv(event: HookEvent, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    BLUEGREEN_EVENT: event.event,
    BLUEGREEN_PLAN: event.plan,
    BLUEGREEN_STAGE: String(event.stage),
    BLUEGREEN_STAGES: String(event.stages),
    BLUEGREEN_GREEN_WEIGHT: String(event.greenWeight),
    BLUEGREEN_GREEN_PERCENT: String(greenPercent(event.greenWeight)),
    BLUEGREEN_BLUE_MODEL: event.blueModel,
    BLUEGREEN_GREEN_MODEL: event.greenModel,
    BLUEGREEN_REASON: event.reason ?? '',
  };
}

/** Runs the command through /bin/sh; resolves once it has exited (or been stopped); never rejects. */
export function runExec(command: string, event: HookEvent, options: ExecOptions): Promise<HookOutcome> {
  const report = new ExecReport(command, options.redact ?? ((text) => text));
  if (options.signal?.aborted) return Promise.resolve(report.outcome(false, `${report.label} was not run: the rollout is stopping`));
  return new Promise((resolve) => {
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
      resolve(report.outcome(false, startFailure(report.label, options.cwd, error)));
      return;
    }
    try {
      if (child.pid !== undefined) options.onStart?.(child.pid);
    } catch {
      // Only a record for crash recovery (e.g. a full disk): the hook itself runs on.
    }
    openGate(child);
    child.stdout?.on('data', (chunk: Buffer) => report.stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => report.stderr.push(chunk));
    supervise(child, report, options, resolve);
  });
}

/** What a hook run reports: its label, the tails of its output, and outcomes with the command's secrets scrubbed. */
class ExecReport {
  readonly label: string;
  readonly stdout = new TailBuffer(OUTPUT_LIMIT);
  readonly stderr = new TailBuffer(OUTPUT_LIMIT);
  private readonly started = performance.now();

  constructor(
    private readonly command: string,
    private readonly redact: (text: string) => string,
  ) {
    // Scrubbed and redacted before it is cut, so a token the cut would split is still found whole.
    this.label = `exec ${clip(redact(scrubCommand(command, command)), 80)}`;
  }

  elapsedMs(): number {
    return performance.now() - this.started;
  }

  /**
   * The last line of stderr, else of stdout, scrubbed and redacted before lastLine cuts it (a URL or a key cut at
   * 200 characters would keep its start, shorter than the redactor's SECRET_PREFIX_LENGTH).
   */
  lastLine(): string {
    const clean = (text: string) => this.redact(scrubCommand(text, this.command));
    return lastLine(clean(this.stderr.text())) || lastLine(clean(this.stdout.text()));
  }

  outcome(ok: boolean, message: string, exitCode?: number): HookOutcome {
    return {
      ok,
      kind: 'exec',
      durationMs: Math.round(this.elapsedMs()),
      message: scrubCommand(message, this.command),
      ...(exitCode === undefined ? {} : { exitCode }),
      stdout: this.stdout.text(),
      stderr: this.stderr.text(),
    };
  }
}

/** A running hook watched for its end, its timeout and the rollout's abort. */
interface HookRun {
  readonly child: ChildProcess;
  readonly report: ExecReport;
  readonly options: ExecOptions;
  readonly graceMs: number;
  readonly resolve: (outcome: HookOutcome) => void;
  readonly timers: NodeJS.Timeout[];
  readonly onAbort: () => void;
  stoppedBy: 'timeout' | 'abort' | undefined;
  settled: boolean;
}

function supervise(child: ChildProcess, report: ExecReport, options: ExecOptions, resolve: (outcome: HookOutcome) => void): void {
  const run: HookRun = {
    child,
    report,
    options,
    graceMs: options.killGraceMs ?? HOOK_KILL_GRACE_MS,
    resolve,
    timers: [],
    onAbort: () => stopHook(run, 'abort'),
    stoppedBy: undefined,
    settled: false,
  };
  run.timers.push(setTimeout(() => stopHook(run, 'timeout'), options.timeoutMs));
  options.signal?.addEventListener('abort', run.onAbort, { once: true });
  child.on('error', (error) => finishHook(run, report.outcome(false, startFailure(report.label, options.cwd, error))));
  child.on('close', (code, signal) => finishHook(run, exitOutcome(run, code, signal)));
  child.on('exit', (code, signal) => {
    run.timers.push(setTimeout(() => finishHook(run, exitOutcome(run, code, signal)), STDIO_GRACE_MS));
  });
}

function stopHook(run: HookRun, why: 'timeout' | 'abort'): void {
  if (run.stoppedBy || run.settled) return;
  // The command had exited already, its pipes not yet closed (a background child holds them, or their last bytes
  // are on the way): it finished, and is reported as it ended, not as stopped; finishHook stops what it left behind.
  const { exitCode, signalCode } = run.child;
  if (exitCode !== null || signalCode !== null) return finishHook(run, exitOutcome(run, exitCode, signalCode));
  run.stoppedBy = why;
  signalGroup(run.child, 'SIGTERM');
  // Not cleared when the shell exits: children that ignore SIGTERM are still swept. unref'd so it never holds the process.
  setTimeout(() => signalGroup(run.child, 'SIGKILL'), run.graceMs).unref();
}

function exitOutcome(run: HookRun, code: number | null, signal: NodeJS.Signals | null): HookOutcome {
  const { report } = run;
  const { label } = report;
  const tail = report.lastLine();
  const detail = tail ? `: ${tail}` : '';
  if (run.stoppedBy === 'timeout') return report.outcome(false, `${label} timed out after ${formatDuration(run.options.timeoutMs)}${detail}`);
  if (run.stoppedBy === 'abort') return report.outcome(false, `${label} was stopped: the rollout is stopping`);
  if (code === 0) return report.outcome(true, `${label} exited 0 in ${formatDuration(report.elapsedMs())}`, 0);
  if (code !== null) return report.outcome(false, `${label} exited ${code}${detail}`, code);
  return report.outcome(false, `${label} was killed by ${signal ?? 'a signal'}${detail}`);
}

/** Reports the first ending (exit, pipes closed, or a failure to start) once the hook's whole group is gone. */
function finishHook(run: HookRun, result: HookOutcome): void {
  if (run.settled) return;
  run.settled = true;
  const { child } = run;
  for (const timer of run.timers) clearTimeout(timer);
  run.options.signal?.removeEventListener('abort', run.onAbort);
  child.stdout?.destroy();
  child.stderr?.destroy();
  // What the shell left running in the background (`set-weight 0.5 &`) is stopped too: it could otherwise set a
  // weight after the ending's hook did. A hook is reported only once its whole group is gone.
  const leftBehind = !run.stoppedBy && child.pid !== undefined && groupAlive(child.pid);
  if (leftBehind) signalGroup(child, 'SIGTERM');
  const reported = leftBehind ? { ...result, message: `${result.message}; what it left running in the background was stopped` } : result;
  if (!(run.stoppedBy || leftBehind) || child.pid === undefined) return run.resolve(reported);
  void groupGone(child.pid, run.graceMs, () => signalGroup(child, 'SIGKILL')).then(() => run.resolve(reported));
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

/** spawn reports a missing cwd as "spawn /bin/sh ENOENT", which points at the wrong thing. */
function startFailure(label: string, cwd: string, error: unknown): string {
  if (!existsSync(cwd)) return `${label} could not start: its folder ${cwd} does not exist`;
  return `${label} could not start in ${cwd}: ${errorText(error)}`;
}
