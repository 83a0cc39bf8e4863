// A rollout that promoted while its disk filled: the journal has its "finished" line (exit 0), state.json missed
// the final write, and the engine journaled a warning about that after the "finished" line. Found by hostile11
// (a 64 KB tmpfs state folder): `status` printed "promoted (exit 0)", then "died without finishing ... run
// bluegreen rollback" and exited 5, and `bluegreen rollback` then undid the promotion (ran on_rollback).
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { rolloutStanding, StateStore } from '../../src/state/index.js';
import { deadPid, snapshot, tempDir } from '../state/helpers.js';
import { runCli } from '../helpers/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

async function promotedOnFullDisk(): Promise<StateStore> {
  const temp = tempDir();
  cleanups.push(() => temp.cleanup());
  const s = new StateStore(temp.dir);
  const plan = { ...snapshot().plan, file: path.join(temp.dir, 'plan.yaml') };
  // state.json's last successful write: promoted and drained, not yet ended.
  await s.writeState(snapshot({ pid: await deadPid(), plan, phase: 'promoted', greenWeight: 1, updatedAt: 1000 }));
  s.appendEvent({ at: 1001, type: 'finished', stage: 0, greenWeight: 1, message: 'promoted (exit 0)', data: { phase: 'promoted', exitCode: 0 } });
  s.appendEvent({ at: 1002, type: 'warning', stage: 0, greenWeight: 1, message: 'state.json could not be written (ENOSPC: no space left on device, write)' });
  return s;
}

it('the journal\'s "finished" line counts when a warning about state.json follows it', async () => {
  const s = await promotedOnFullDisk();
  expect(rolloutStanding(s)).toMatchObject({ kind: 'finished', snapshot: { phase: 'promoted', exitCode: 0 } });
});

it('status exits 0 and rollback leaves the promotion alone', async () => {
  const s = await promotedOnFullDisk();
  const status = await runCli(['status', '--state-dir', s.dir], { cwd: s.dir });
  expect(status.stdout).toMatch(/promoted \(exit 0\)/);
  expect(status.stderr).not.toMatch(/died/);
  expect(status.code).toBe(0);
  const rollback = await runCli(['rollback', '--state-dir', s.dir], { cwd: s.dir });
  expect(rollback.code).toBe(0);
  expect(`${rollback.stdout}${rollback.stderr}`).not.toMatch(/rolled back the rollout/);
  expect(rolloutStanding(s)).toMatchObject({ kind: 'finished', snapshot: { phase: 'promoted', exitCode: 0 } });
});
