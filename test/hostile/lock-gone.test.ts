// A rollout whose lock is gone while it runs (its state folder moved or deleted: its next write makes the folder
// again, without the lock). Found by hostile20: a second `bluegreen rollout` on the folder took the first for dead,
// ran its on_rollback, then its own stages, while the first went on moving the same traffic through the same hooks
// (two promotions of one model, each hook call undoing the other's weight). It is refused now, exit 2.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { StateStore } from '../../src/state/index.js';
import { runCli } from '../helpers/cli.js';
import { killAfterTest } from '../helpers/processes.js';
import { simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { snapshot } from '../state/helpers.js';

/** A process that runs until the test ends: the first rollout, as far as the folder can tell. */
function living(): ChildProcess {
  return killAfterTest(spawn('sleep', ['600'], { stdio: 'ignore' }));
}

it('a rollout refuses a folder whose recorded rollout still runs without its lock, and moves no traffic', async () => {
  const dir = tempDir();
  const marker = path.join(dir, 'hook-ran');
  const hooks = `hooks:\n  on_stage: { exec: "touch ${marker}" }\n  on_rollback: { exec: "touch ${marker}" }\n`;
  const plan = writePlan(`${simulatedPlan('lock-gone', '1s', 0.5)}${hooks}`, dir);
  const stateDir = path.join(dir, 'state');
  mkdirSync(stateDir);
  const first = living();
  const store = new StateStore(stateDir);
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
