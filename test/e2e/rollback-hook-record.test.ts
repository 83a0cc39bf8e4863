// `bluegreen rollback` runs the dead rollout's on_rollback: that hook is recorded in hook.json as a rollout's
// hooks are, so a kill -9 of the rollback command does not leave it running where nothing can find it to stop.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { isAlive, killAfterTest } from '../helpers/processes.js';
import { tempDir } from '../helpers/plans.js';
import { BIN, exitOf, hookLog, journalHas, loggingPlan, startRollout } from './helpers.js';
import { until } from '../helpers/until.js';

/**
 * A rollout killed -9 in stage 1, then `bluegreen rollback` started on it, its hook waiting once its shell wrote its
 * pid to `pidName`: the rollback (still running), the hook's pid, and the hook record (hook.json) at that moment.
 */
async function rollbackWithHookWaiting(dir: string, pidName: string, what: string) {
  const rollout = startRollout(dir);
  await until(journalHas(dir, 'stage_started'), 'stage 1');
  rollout.kill('SIGKILL');
  await exitOf(rollout);
  const rollback = killAfterTest(spawn(process.execPath, [BIN, 'rollback'], { cwd: dir, env: { ...process.env, CI: '' }, stdio: 'ignore' }));
  // The hook's command starts only once its record is written (the gate in src/hooks/exec.ts).
  // The shell creates the pid file before it writes the pid: wait for the pid itself (CI once read an empty file).
  const pidFile = path.join(dir, pidName);
  await until(() => existsSync(pidFile) && /^\d+\s*$/.test(readFileSync(pidFile, 'utf8')), what);
  const hookPid = Number(readFileSync(pidFile, 'utf8'));
  const record = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'hook.json'), 'utf8')) as Record<string, unknown>;
  return { rollback, hookPid, record };
}

it('a kill -9 of bluegreen rollback leaves its on_rollback recorded; the next rollback stops it and runs its own', async () => {
  const dir = tempDir();
  // The first on_rollback waits (its shell's pid in rollback.pid); the next one, finding that file, does not.
  loggingPlan(dir, { rollbackHook: '[ -e rollback.pid ] || { echo $$ > rollback.pid; sleep 60; }; echo "rollback $BLUEGREEN_GREEN_WEIGHT" >> hook.log' });
  const { rollback, hookPid, record } = await rollbackWithHookWaiting(dir, 'rollback.pid', 'the on_rollback hook to start');
  expect(record).toMatchObject({ pgid: hookPid, plan: 'stop-test', event: 'rollback', pid: rollback.pid, stage: 1, greenWeight: 0 });
  rollback.kill('SIGKILL');
  expect((await exitOf(rollback)).signal).toBe('SIGKILL');
  expect(isAlive(hookPid)).toBe(true);
  // status names the killed rollback's hook, still running (found by hostile13: it said nothing of it, the record
  // being the rollback's pid, not the rollout's).
  const status = await runCli(['status'], { cwd: dir });
  expect(status.code).toBe(5);
  expect(status.stdout).toContain(
    `a bluegreen rollback (pid ${rollback.pid}) was killed while its rollback hook ran, and the hook still runs: bluegreen rollback stops it before running its own`,
  );

  const again = await runCli(['rollback'], { cwd: dir });
  expect(again.code, again.stderr).toBe(0);
  // Whose hook it was: the killed rollback's, not "the dead rollout's".
  expect(again.stderr).toContain(
    `stopped the on_rollback hook (process group ${hookPid}) left running by a bluegreen rollback (pid ${rollback.pid}) that was killed while it ran`,
  );
  expect(isAlive(hookPid)).toBe(false);
  // Only the second rollback's hook finished: the first was stopped before it could run on after it.
  expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
  expect(existsSync(path.join(dir, '.bluegreen', 'hook.json'))).toBe(false);
});

// edges14 (fixed by orphan15): a plan without on_rollback is put back on blue by its on_stage hook at 0%, and the
// recovery's messages called that hook "on_rollback": the operator went looking for a hook the plan has not. The
// record names the hook that ran (hook.json's `hook`), and status and the next rollback say it.
it('a killed rollback whose on_stage hook stood in for on_rollback: status and the next rollback name on_stage', async () => {
  const dir = tempDir();
  // on_stage sets the weight; at 0% (the rollback's stand-in) its first run waits, with its shell's pid in stand-in.pid.
  loggingPlan(dir, { stageHookDelay: '[ "$BLUEGREEN_GREEN_WEIGHT" = 0 ] && [ ! -e stand-in.pid ] && { echo $$ > stand-in.pid; sleep 60; }' });
  const planFile = path.join(dir, 'plan.yaml');
  writeFileSync(planFile, readFileSync(planFile, 'utf8').replace(/^ {2}on_(rollback|abort):.*\n/gm, ''));
  const { rollback, hookPid, record } = await rollbackWithHookWaiting(dir, 'stand-in.pid', 'the on_stage hook to start at 0%');
  expect(record).toMatchObject({ event: 'rollback', hook: 'on_stage', pid: rollback.pid, greenWeight: 0, recovery: 'bluegreen rollback' });
  rollback.kill('SIGKILL');
  await exitOf(rollback);

  const status = await runCli(['status'], { cwd: dir });
  expect(status.code).toBe(5);
  expect(status.stdout).toContain(
    `a bluegreen rollback (pid ${rollback.pid}) was killed while its on_stage hook (for on_rollback, which the plan has not) ran, and the hook still runs`,
  );
  const again = await runCli(['rollback'], { cwd: dir });
  expect(again.code, again.stderr).toBe(0);
  // The group is the hook's (sh -c, the script's shell inside it): its leader, not the script's $$.
  expect(again.stderr).toMatch(new RegExp(`stopped the on_stage hook \\(process group \\d+\\) left running by a bluegreen rollback \\(pid ${rollback.pid}\\)`));
  expect(again.stdout).toContain('on_stage (for on_rollback, which the plan has not) ran; traffic is back on blue');
  expect(isAlive(hookPid)).toBe(false);
});
