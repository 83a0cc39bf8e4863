// `bluegreen rollback` reads the folder's rollout, then takes the folder's lock. A new rollout can start (and end, or
// die) in between: the rollback then recovered the run it had read first, writing that run's record over the new
// one's (the new one's traffic left where it was), or said "already rolled back" of a run a promotion had followed.
// Under the lock it now acts on what it reads there. The other rollout is put in that gap by the test (the lock's
// taking is where it lands), not raced.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { writeFileAtomic } from '../../src/state/files.js';
import { StateStore } from '../../src/state/index.js';
import { runCli } from '../helpers/cli.js';
import { planFromYaml, simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const RUN_A = 1_700_000_000_000;
const RUN_B = 1_700_000_900_000;

/** A folder whose rollout (run A) died at stage 1 with green at 50%; its on_rollback notes the stage it is told. */
async function orphanedFolder() {
  const dir = tempDir();
  const yaml = `${simulatedPlan('reread', '10s', 0.5)}hooks:\n  on_rollback: { exec: 'echo "stage $BLUEGREEN_STAGE" >> rollbacks.txt' }\n`;
  const file = writePlan(yaml, dir);
  const plan = planFromYaml(yaml, dir);
  const store = new StateStore(path.join(dir, '.bluegreen'));
  const stages = plan.stages.map((stage) => ({ durationMs: stage.duration, greenWeight: stage.green_weight }));
  const record = async (overrides: Partial<RolloutSnapshot>): Promise<RolloutSnapshot> =>
    snapshot({ pid: await deadPid(), plan: { name: 'reread', file, hash: plan.source.hash, blueModel: 'a', greenModel: 'b', stages }, ...overrides });
  await store.writeState(await record({ startedAt: RUN_A, updatedAt: RUN_A + 1000, stageIndex: 0, greenWeight: 0.5 }));
  return { dir, store, record };
}

/** Writes `next` as the folder's record just before the rollback takes the folder's lock (once). */
function beforeTheLock(store: StateStore, next: RolloutSnapshot): void {
  const spy = vi.spyOn(StateStore.prototype, 'acquireLock');
  spy.mockImplementationOnce(function (this: StateStore, info) {
    writeFileAtomic(store.statePath, `${JSON.stringify(next)}\n`);
    spy.mockRestore();
    return this.acquireLock(info);
  });
}

describe('bluegreen rollback when another rollout is recorded between its read and its lock', () => {
  it('recovers the run recorded under the lock (stage 2, green 100%), not the one read first, and keeps its record', async () => {
    const { dir, store, record } = await orphanedFolder();
    // Run B started (a new rollout recovers A first), reached stage 2 and died too.
    beforeTheLock(store, await record({ startedAt: RUN_B, updatedAt: RUN_B + 1000, stageIndex: 1, greenWeight: 1 }));
    const run = await runCli(['rollback', '--state-dir', '.bluegreen'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'rollbacks.txt'), 'utf8')).toBe('stage 2\n');
    const after = store.readState();
    expect(after).toMatchObject({ startedAt: RUN_B, phase: 'rolled_back', stageIndex: 1, greenWeight: 0 });
    expect(run.stderr).toContain('changed while bluegreen rollback was reading it (a rollout started or ended there meanwhile); reading it again');
    expect(run.stderr).toContain('died without finishing, at stage 2/2 with green at 100%; traffic may not be on blue; rolling back');
  });

  it('says a run that ended since ended, not that the one read first was rolled back', async () => {
    const { dir, store, record } = await orphanedFolder();
    const promoted = await record({
      startedAt: RUN_B,
      updatedAt: RUN_B + 1000,
      endedAt: RUN_B + 1000,
      phase: 'promoted',
      exitCode: 0,
      stageIndex: 1,
      greenWeight: 1,
      reason: 'all 2 stages passed; b takes 100% of traffic',
    });
    beforeTheLock(store, promoted);
    const run = await runCli(['rollback', '--state-dir', '.bluegreen'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^the rollout of plan "reread" already ended \(promoted, exit 0\); bluegreen rollback does not undo a promotion/);
    expect(store.readState()).toMatchObject({ startedAt: RUN_B, phase: 'promoted' });
  });

  // The same race for --force-blue on an ended run: it moved proxies on the first run's record, and a run dead since
  // was left unrecovered, its green on.
  it('--force-blue on an ended run recovers the run recorded under the lock (died at stage 2), not the ended one read first', async () => {
    const { dir, store, record } = await orphanedFolder();
    await store.writeState(
      await record({ startedAt: RUN_A, updatedAt: RUN_A + 1000, endedAt: RUN_A + 1000, phase: 'rolled_back', exitCode: 1, stageIndex: 0, greenWeight: 0 }),
    );
    beforeTheLock(store, await record({ startedAt: RUN_B, updatedAt: RUN_B + 1000, stageIndex: 1, greenWeight: 1 }));
    const run = await runCli(['rollback', '--force-blue', '--state-dir', '.bluegreen'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('changed while bluegreen rollback was reading it (a rollout started or ended there meanwhile); reading it again');
    expect(readFileSync(path.join(dir, 'rollbacks.txt'), 'utf8')).toBe('stage 2\n');
    expect(store.readState()).toMatchObject({ startedAt: RUN_B, phase: 'rolled_back', stageIndex: 1, greenWeight: 0 });
  });
});
