// A rollout whose lock is gone while it runs (its state folder moved or deleted: its next write makes the folder
// again, without the lock). Found by hostile20: a second `bluegreen rollout` on the folder took the first for dead,
// ran its on_rollback, then its own stages, while the first went on moving the same traffic through the same hooks
// (two promotions of one model, each hook call undoing the other's weight). It is refused now, exit 2. So is a
// rollout on a folder whose dead run another bluegreen is recovering without the lock (live22, below).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { acquireLock, readLock, StateStore } from '../../src/state/index.js';
import { hostname } from 'node:os';
import { BIN } from '../e2e/helpers.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { killAfterTest } from '../helpers/processes.js';
import { simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';
import { holdRecoveryGuard } from '../helpers/guard-holder.js';

/** A process that runs until the test ends: the first rollout, as far as the folder can tell. */
function living(): ChildProcess {
  return killAfterTest(spawn('sleep', ['600'], { stdio: 'ignore' }));
}

/**
 * `bluegreen ARGS` as its own process in `cwd`, killed if it has not ended within a minute (a hang's bound, never
 * reached when it passes): a command blocked in a synchronous read waits there alone, not this worker with it.
 */
function bluegreenBounded(args: string[], cwd: string): Promise<CliRun & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { PATH: process.env.PATH }, timeout: 60_000, killSignal: 'SIGKILL' },
      (_error, stdout, stderr) => resolve({ code: child.exitCode ?? -1, signal: child.signalCode, stdout, stderr }),
    );
    killAfterTest(child);
  });
}

/** A plan whose hooks leave a marker file when they run, and an empty state folder beside it. */
function planAndFolder(): { dir: string; marker: string; plan: string; stateDir: string; store: StateStore } {
  const dir = tempDir();
  const marker = path.join(dir, 'hook-ran');
  const hooks = `hooks:\n  on_stage: { exec: "touch ${marker}" }\n  on_rollback: { exec: "touch ${marker}" }\n`;
  const plan = writePlan(`${simulatedPlan('lock-gone', '1s', 0.5)}${hooks}`, dir);
  const stateDir = path.join(dir, 'state');
  mkdirSync(stateDir);
  return { dir, marker, plan, stateDir, store: new StateStore(stateDir) };
}

it('a rollout refuses a folder whose recorded rollout still runs without its lock, and moves no traffic', async () => {
  const { dir, marker, plan, stateDir, store } = planAndFolder();
  const first = living();
  // What the first rollout writes into the folder made again: its state, at stage 1 with green at 50%, no lock.
  await store.writeState(snapshot({ pid: first.pid, greenWeight: 0.5, plan: { ...snapshot().plan, name: 'lock-gone' } }));

  const run = await runCli(['rollout', plan, '--plain', '--state-dir', stateDir], { cwd: dir });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`the rollout of plan "lock-gone" recorded in ${stateDir} still runs (pid ${first.pid}), although its lock is gone`);
  expect(existsSync(marker)).toBe(false);
  // The first rollout's record is left as it was, and so is the folder's lock (none: the refused run released its own).
  expect(store.readState()).toMatchObject({ pid: first.pid, greenWeight: 0.5, phase: 'progressing' });
  expect(existsSync(path.join(stateDir, 'lock'))).toBe(false);
  // `status` says it runs, as before.
  expect((await runCli(['status', '--state-dir', stateDir], { cwd: dir })).code).toBe(0);
});

// Before (session 20): `rollback` there said "stop it with: bluegreen abort", and `abort` then said no rollout runs
// (it finds no lock to name its target). Both now name what does stop it.
it('rollback and abort on a folder whose rollout runs without its lock say to stop it with kill -TERM PID', async () => {
  const dir = tempDir();
  const first = living();
  await new StateStore(dir).writeState(snapshot({ pid: first.pid, greenWeight: 0.5, plan: { ...snapshot().plan, name: 'lock-gone' } }));
  const still = `the rollout of plan "lock-gone" recorded in ${dir} still runs (pid ${first.pid}), although its lock is gone`;

  const rollback = await runCli(['rollback', '--state-dir', dir], { cwd: dir });
  expect(rollback.code).toBe(2);
  expect(rollback.stderr).toContain(
    `${still} (the folder was moved or deleted, or its lock file); stop it with kill -TERM ${first.pid} (it rolls back to blue)`,
  );
  expect(rollback.stderr).not.toContain('bluegreen abort');

  const abort = await runCli(['abort', '--state-dir', dir], { cwd: dir });
  expect(abort.code).toBe(2);
  expect(abort.stderr).toContain(`${still}`);
  expect(abort.stderr).toContain(`abort is not sent without the lock naming it: to stop it, kill -TERM ${first.pid}`);
  expect(existsSync(path.join(dir, 'control'))).toBe(false);
});

// Before (live22): a new rollout recovering the folder's dead run took the folder's lock, but not the recovery guard a
// lock-free `bluegreen rollback` (in a folder it could not write) holds while it runs on_rollback: both could run it.
it('a rollout refuses (exit 2) while another recovery of the folder holds its recovery guard, and runs no hook', async () => {
  const { dir, marker, plan, stateDir, store } = planAndFolder();
  await store.writeState(snapshot({ pid: await deadPid(), greenWeight: 0.5, plan: { ...snapshot().plan, name: 'lock-gone', file: plan } }));
  // The other recovery: a bluegreen holding the guard without the folder's lock, as a lock-free `bluegreen rollback` does.
  const holder = await holdRecoveryGuard(stateDir, { asBluegreen: true });

  const run = await runCli(['rollout', plan, '--plain', '--state-dir', stateDir], { cwd: dir });
  expect(run.code, run.stderr).toBe(2);
  // With the folder's lock held, the holder's answer decides (it is waited for up to 10 s): its pid is always named.
  expect(run.stderr).toContain(
    `another bluegreen rollback (pid ${holder.pid}) is putting the rollout recorded in ${stateDir} back on blue right now; wait for it to finish, then start the rollout again`,
  );
  expect(existsSync(marker)).toBe(false);
  expect(store.readState()).toMatchObject({ phase: 'progressing', greenWeight: 0.5 });
  expect(existsSync(path.join(stateDir, 'lock'))).toBe(false);
});

// Before (live22): with the folder's lock held by another bluegreen than the rollout state.json records (a rollout
// starting, a rollback), `abort` wrote its request and said "abort requested for rollout ... (pid <the other>)": that
// process reads no requests, and the recorded rollout, still running without its lock, took it instead.
it('abort refuses (exit 2) while the lock names another bluegreen than the recorded rollout, and writes no request', async () => {
  const dir = tempDir();
  const [recorded, other] = [living(), living()];
  await new StateStore(dir).writeState(snapshot({ pid: recorded.pid, greenWeight: 0.5, plan: { ...snapshot().plan, name: 'lock-gone' } }));
  acquireLock(
    dir,
    { pid: other.pid as number, planName: 'lock-gone', startedAt: Date.now(), user: 'ci', host: hostname() },
    { now: Date.now, host: hostname() },
  );

  const abort = await runCli(['abort', '--state-dir', dir], { cwd: dir });
  expect(abort.code, abort.stdout).toBe(2);
  expect(abort.stderr).toContain(
    `another bluegreen (pid ${other.pid}: a rollback, or a rollout starting) holds ${dir}, not the rollout recorded there (pid ${recorded.pid}); abort is not sent`,
  );
  expect(existsSync(path.join(dir, 'control'))).toBe(false);
});

// Before (review22): pause|resume|promote|abort read the folder's lock twice, judging the first read (the recorded
// rollout, its owner) and naming the second's: a lock changing hands in between (a rollback, a rollout starting) got
// "abort requested for rollout ... (pid <the other>)". hook.json, read between the two, is made a FIFO here, whose
// writer moves another lock into place before it lets that read end.
it.runIf(process.platform === 'linux')('a control request goes on with the lock it read once, though the lock changes hands meanwhile', async () => {
  const dir = tempDir();
  const [recorded, other] = [living(), living()];
  await new StateStore(dir).writeState(snapshot({ pid: recorded.pid, greenWeight: 0.5, plan: { ...snapshot().plan, name: 'lock-gone' } }));
  const owner = (pid: number | undefined) => ({ pid: pid as number, planName: 'lock-gone', startedAt: Date.now(), user: 'ci', host: hostname() });
  acquireLock(dir, owner(recorded.pid), { now: Date.now, host: hostname() });
  const next = path.join(dir, 'next-lock');
  writeFileSync(next, JSON.stringify({ ...owner(other.pid), token: 'other' }));
  const fifo = path.join(dir, 'hook.json');
  execFileSync('mkfifo', [fifo]);
  const swap = `
    const fs = require('node:fs');
    const [fifo, next, lock] = process.argv.slice(1);
    process.stdout.write('opening\\n');
    const fd = fs.openSync(fifo, 'w');
    fs.renameSync(next, lock);
    fs.closeSync(fd);
  `;
  const swapper = killAfterTest(spawn(process.execPath, ['-e', swap, fifo, next, path.join(dir, 'lock')], { stdio: ['ignore', 'pipe', 'inherit'] }));
  // Its open next (it waits for the reader's): the command's read of hook.json blocks until then.
  await once(swapper.stdout, 'data');

  // Its own process: a second read of hook.json would block on the FIFO for good (no writer opens it again), a
  // synchronous read that would hang this whole worker had the command run in it.
  const abort = await bluegreenBounded(['abort', '--state-dir', dir], dir);
  expect(abort.signal, `bluegreen abort did not end: a second read of hook.json? ${abort.stderr}`).toBeNull();
  expect(abort.code, abort.stderr).toBe(0);
  expect(abort.stdout).toContain(`abort requested for rollout "lock-gone" (pid ${recorded.pid})`);
  expect(readLock(dir)?.pid).toBe(other.pid);
});
