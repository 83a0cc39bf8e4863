// A rollout killed at any instant of its start must leave a folder `status` and `rollback` understand. Its start sets
// the previous run's record aside (reset) and only then writes its first journal line: killed in between (or inside
// that first append, its file created but not yet written), the folder held neither state.json nor a journal line,
// and `rollback` said "no rollout state ...: nothing to roll back" (exit 2) where a run had just ended (a flake of
// test/e2e/recovery.test.ts's crash loop). The previous state.json now stays until the first line is written. Each
// kill point here is the folder exactly as the start leaves it there, made by the store's own calls: no timing.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../src/state/index.js';
import { runCli } from '../helpers/cli.js';
import { planFromYaml, simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { snapshot } from './helpers.js';

/** A folder whose last rollout ended (rolled back), and a store about to start the next one there. */
async function endedFolder() {
  const dir = tempDir();
  const yaml = simulatedPlan('kill-points', '10s', 0.5);
  const file = writePlan(yaml, dir);
  const plan = planFromYaml(yaml, dir);
  const store = new StateStore(path.join(dir, '.bluegreen'));
  const stages = plan.stages.map((stage) => ({ durationMs: stage.duration, greenWeight: stage.green_weight }));
  const ended = { phase: 'rolled_back' as const, endedAt: 1_700_000_002_000, exitCode: 10, greenWeight: 0, reason: 'green error_rate too high' };
  await store.writeState(snapshot({ plan: { name: 'kill-points', file, hash: plan.source.hash, blueModel: 'a', greenModel: 'b', stages }, ...ended }));
  store.appendEvent({ at: 1_700_000_000_000, type: 'rollout_started', message: 'rollout "kill-points" started: a (blue) -> b (green), 2 stages' });
  store.appendEvent({ at: 1_700_000_002_000, type: 'finished', message: 'green error_rate too high (exit 10)', data: { phase: 'rolled_back', exitCode: 10 } });
  return { dir, store };
}

const ENDED = 'the rollout of plan "kill-points" already ended (rolled back, exit 10); nothing to roll back\n';

describe('a rollout killed as it starts, before its first journal line', () => {
  it('right after setting the previous record aside: the folder reads as that ended run', async () => {
    const { dir, store } = await endedFolder();
    store.reset();
    const rollback = await runCli(['rollback'], { cwd: dir });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toBe(ENDED);
    const status = await runCli(['status'], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('rollout kill-points: rolled back');
  });

  it('inside its first append (the journal created, nothing written): the same', async () => {
    const { dir, store } = await endedFolder();
    store.reset();
    writeFileSync(store.eventsPath, '');
    const rollback = await runCli(['rollback'], { cwd: dir });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toBe(ENDED);
  });

  it('right after its first line: it died before its first record, nothing moved (as before)', async () => {
    const { dir, store } = await endedFolder();
    store.reset();
    store.appendEvent({ at: 1_700_000_100_000, type: 'rollout_started', message: 'rollout "kill-points" started: a (blue) -> b (green), 2 stages' });
    const rollback = await runCli(['rollback'], { cwd: dir });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('died before its first record; nothing moved: traffic is on blue; nothing to roll back');
  });
});
