// Shared by the tests that stop a real bluegreen process: a plan whose hooks log every weight they set, and
// waits on the files the rollout writes (never on the clock).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RolloutEvent } from '../../src/engine/types.js';
import { parseJournal } from '../../src/state/index.js';
import { simulatedStagesPlan, tempDir, writePlan } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/bluegreen.js');

export interface PlanOptions {
  name?: string;
  stages?: { duration: string; weight: number }[];
  /** Shell run by on_stage before it logs its weight (e.g. "sleep 8" for a slow hook). */
  stageHookDelay?: string;
  /** Replaces the on_rollback command. */
  rollbackHook?: string;
  /** An on_promote command (the plan has none without it). */
  promoteHook?: string;
}

/**
 * A plan on the in-process simulator whose hooks append "<event> <weight>" to hook.log: on_stage logs when it
 * is done (after its delay), rollback and abort at once. hook.pid holds the running on_stage shell's pid.
 */
export function loggingPlan(dir: string, options: PlanOptions = {}): string {
  const stages = options.stages ?? [
    { duration: '60s', weight: 0.25 },
    { duration: '60s', weight: 1 },
  ];
  const delay = options.stageHookDelay ?? 'true';
  writeFileSync(
    path.join(dir, 'set-weight.sh'),
    `echo $$ > hook.pid\necho "begin $BLUEGREEN_GREEN_WEIGHT" >> hook.trace\n${delay}\necho "$BLUEGREEN_EVENT $BLUEGREEN_GREEN_WEIGHT" >> hook.log\n`,
  );
  return writePlan(
    `${simulatedStagesPlan(options.name ?? 'stop-test', stages)}hooks:
  on_stage: { exec: sh ./set-weight.sh, timeout: 60s }
  on_rollback: { exec: '${options.rollbackHook ?? 'echo "rollback $BLUEGREEN_GREEN_WEIGHT" >> hook.log'}' }
  on_abort: { exec: 'echo "abort $BLUEGREEN_GREEN_WEIGHT" >> hook.log' }
${options.promoteHook === undefined ? '' : `  on_promote: { exec: '${options.promoteHook}', timeout: 60s }\n`}`,
    dir,
  );
}

export function hookLog(dir: string): string[] {
  const file = path.join(dir, 'hook.log');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}

export function journal(dir: string): RolloutEvent[] {
  let text: string;
  try {
    text = readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8');
  } catch {
    // Not written yet, or just moved aside by a new rollout on an orphaned folder (events.prev.jsonl).
    return [];
  }
  return parseJournal(text).events;
}

export function readState(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as Record<string, unknown>;
}

export function journalHas(dir: string, type: string): () => boolean {
  return () => journal(dir).some((event) => event.type === type);
}

/**
 * `bluegreen rollout plan.yaml --plain` as its own process in `dir`; `env` is added to this process's environment for
 * it alone. Call it inside a test: a rollout still running when the test ends (one that failed before stopping it) is
 * killed then, so it outlives neither the test nor, in the shared worker, the file.
 */
export function startRollout(dir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return killAfterTest(
    spawn(process.execPath, [BIN, 'rollout', 'plan.yaml', '--plain', ...args], {
      cwd: dir,
      env: { ...process.env, CI: '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
}

/** `bluegreen rollout plan.yaml --plain` in `dir`, run to its end: its exit code, its stderr and its saved state. */
export async function rolloutToEnd(
  dir: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stderr: string; state: Record<string, unknown> }> {
  const child = startRollout(dir, args, env);
  const stderr = stderrOf(child);
  const { code } = await exitOf(child);
  return { code, stderr: stderr.text(), state: readState(dir) };
}

/** What the rollout has written to stderr so far, and a wait for a piece of text to appear there. */
export function stderrOf(child: ChildProcess): { text: () => string; waitFor: (text: string) => Promise<void> } {
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters.filter((w) => stderr.includes(w.text))) waiter.resolve();
  });
  return {
    text: () => stderr,
    waitFor: (text) => (stderr.includes(text) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ text, resolve }))),
  };
}

/**
 * The child's exit code or signal, once it has exited and its stdout and stderr pipes (those it has) are read to
 * their end: 'exit' may come before the last lines it wrote are read, and a test reading them (stderrOf) at 'exit'
 * missed them now and then. A process it started that holds the pipes (npm exec's bluegreen) is waited for too.
 */
export async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  await Promise.all([child.stdout, child.stderr].map((pipe) => (pipe && !pipe.closed ? once(pipe, 'close') : Promise.resolve())));
  return { code: child.exitCode, signal: child.signalCode };
}

/** A project folder that has bluegreen installed the way a user's repository does (node_modules/.bin), offline. */
export function projectWithBluegreen(): string {
  const dir = tempDir('bluegreen-npx-');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'uses-bluegreen', private: true, devDependencies: { bluegreen: '*' } }));
  mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(ROOT, path.join(dir, 'node_modules', 'bluegreen'), 'dir');
  symlinkSync('../bluegreen/bin/bluegreen.js', path.join(dir, 'node_modules', '.bin', 'bluegreen'));
  return dir;
}

/** The environment npm and its children get: no network, no update check, the plain reporter. */
export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: '',
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  // Left by `npm test` around vitest; npm exec sets its own.
  for (const key of Object.keys(env)) if (key.startsWith('npm_lifecycle') || key === 'npm_command') delete env[key];
  return env;
}
