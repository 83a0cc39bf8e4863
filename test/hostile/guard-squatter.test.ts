// A squatted recovery guard (review22): the guard is an abstract socket named after the state folder, and any local
// user can bind that name, so every `bluegreen rollback` of the folder refused, exit 2, naming whatever pid the
// squatter answered. Holding the folder's lock, a recovery now honours the guard only when its holder is a living
// bluegreen that holds it; without the lock (a folder it cannot write) every holder is still honoured.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { claimRecovery } from '../../src/cli/recovery-claim.js';
import { StateStore } from '../../src/state/index.js';
import { runCli } from '../helpers/cli.js';
import { bluegreenLookalike, holdRecoveryGuard } from '../helpers/guard-holder.js';
import { simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';

const linux = process.platform === 'linux';

/** A rollout killed at stage 1 with green at 50%, whose on_rollback leaves a marker file when it runs. */
async function orphanedFolder(): Promise<{ dir: string; marker: string; store: StateStore }> {
  const dir = tempDir();
  const marker = path.join(dir, 'rolled-back');
  const plan = writePlan(`${simulatedPlan('squat', '1s', 0.5)}hooks:\n  on_rollback: { exec: "touch ${marker}" }\n`, dir);
  const store = new StateStore(path.join(dir, 'state'));
  await store.writeState(snapshot({ pid: await deadPid(), greenWeight: 0.5, plan: { ...snapshot().plan, name: 'squat', file: plan } }));
  return { dir, marker, store };
}

it.runIf(linux)('a rollback holding the lock goes past a guard squatted by a plain process, saying so, and rolls back', async () => {
  const { dir, marker, store } = await orphanedFolder();
  const squatter = await holdRecoveryGuard(store.dir);

  const run = await runCli(['rollback', '--state-dir', store.dir], { cwd: dir });
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).toContain(`bluegreen: warning: ignored a recovery guard held by pid ${squatter.pid}, which is not a bluegreen process`);
  expect(existsSync(marker)).toBe(true);
  expect(store.readState()).toMatchObject({ phase: 'rolled_back', greenWeight: 0 });
});

it.runIf(linux)("goes past a squatter answering a living bluegreen's pid: that process does not hold the guard", async () => {
  const { dir, marker, store } = await orphanedFolder();
  const bluegreen = await bluegreenLookalike();
  await holdRecoveryGuard(store.dir, { answer: bluegreen.pid });

  const run = await runCli(['rollback', '--state-dir', store.dir], { cwd: dir });
  expect(run.code, run.stderr).toBe(0);
  expect(run.stderr).toContain(`ignored a recovery guard held by pid ${bluegreen.pid}, which is not a bluegreen process`);
  expect(existsSync(marker)).toBe(true);
});

it.runIf(linux)('refuses (exit 2) while a bluegreen holds the guard, and runs no hook', async () => {
  const { dir, marker, store } = await orphanedFolder();
  const holder = await holdRecoveryGuard(store.dir, { asBluegreen: true });

  const run = await runCli(['rollback', '--state-dir', store.dir], { cwd: dir });
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toContain(`another bluegreen rollback (pid ${holder.pid}) is putting the rollout of plan "squat" back on blue right now`);
  expect(existsSync(marker)).toBe(false);
  expect(store.readState()).toMatchObject({ phase: 'progressing', greenWeight: 0.5 });
});

it.runIf(linux)("without the folder's lock, a squatter's guard is honoured as before: two lock-free recoveries must never meet", async () => {
  const dir = tempDir();
  const squatter = await holdRecoveryGuard(dir);
  const warnings: string[] = [];
  const claim = claimRecovery(dir, { what: 'recovering', then: 'wait', locked: false, warn: (message) => warnings.push(message) });
  // Its pid when it answers within the unlocked wait (2 s), which a machine stalled that long may outlast: refused all the same.
  await expect(claim).rejects.toThrow(new RegExp(`^another bluegreen rollback( \\(pid ${squatter.pid}\\))? is recovering right now; wait$`));
  expect(warnings).toEqual([]);
});
