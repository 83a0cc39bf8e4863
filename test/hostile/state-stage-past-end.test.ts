// A state.json whose stageIndex is past the plan's last stage (a hand edit, a file from another plan): found by
// hostile12, `status` showed "stage 100/1" and `rollout --resume` promoted at once, "all 1 stages passed" (exit 0),
// with no stage run. Such a file is now refused by name, as any other bad key is.
import path from 'node:path';
import { expect, it } from 'vitest';
import { StateStore } from '../../src/state/index.js';
import { runCli } from '../helpers/cli.js';
import { planFromYaml, simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';

it('status and rollout --resume refuse a state.json whose stage is past the plan, rather than promote', async () => {
  const dir = tempDir();
  const yaml = simulatedPlan('past-end', '60s', 0.5);
  const file = writePlan(yaml, dir);
  const plan = planFromYaml(yaml, dir);
  const store = new StateStore(path.join(dir, '.bluegreen'));
  const stages = plan.stages.map((stage) => ({ durationMs: stage.duration, greenWeight: stage.green_weight }));
  const planRecord = { name: 'past-end', file, hash: plan.source.hash, blueModel: 'a', greenModel: 'b', stages };
  await store.writeState(snapshot({ pid: await deadPid(), phase: 'progressing', stageIndex: 99, greenWeight: 0.5, plan: planRecord }));

  const status = await runCli(['status'], { cwd: dir });
  expect(status.code).toBe(2);
  expect(status.stderr).toMatch(/stageIndex: 99 is past the plan's last stage \(it has 2\)/);
  const resumed = await runCli(['rollout', file, '--resume', '--plain'], { cwd: dir });
  expect(resumed.code).toBe(2);
  expect(resumed.stderr).not.toContain('promoted');
});
