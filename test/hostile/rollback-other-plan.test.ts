// `bluegreen rollback --plan FILE` is for a plan file that moved. Given another plan (found by hostile12), it ran
// that plan's on_rollback with only a warning that the file 'changed since the rollout started', and said "traffic
// is back on blue" (exit 0) for the dead rollout, whose own traffic no hook had touched.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { StateStore } from '../../src/state/index.js';
import { runCli } from '../helpers/cli.js';
import { planFromYaml, simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';

async function deadRollout() {
  const dir = tempDir();
  const yaml = `${simulatedPlan('plan-a', '10s', 0.5)}hooks:\n  on_rollback: { exec: 'echo A >> hook.log' }\n`;
  const file = writePlan(yaml, dir);
  const plan = planFromYaml(yaml, dir);
  const store = new StateStore(path.join(dir, '.bluegreen'));
  const plans = { name: 'plan-a', file, hash: plan.source.hash, blueModel: 'a', greenModel: 'b', stages: [{ durationMs: 10_000, greenWeight: 0.5 }] };
  await store.writeState(snapshot({ pid: await deadPid(), phase: 'progressing', greenWeight: 0.5, plan: plans }));
  return { dir, store };
}

it('refuses another plan (another name, or other models): exit 2, its hook not run, the rollout still unfinished', async () => {
  for (const [name, edit] of [
    ['another name', (yaml: string) => yaml.replace('name: plan-a', 'name: plan-z')],
    ['other models', (yaml: string) => yaml.replace('green: { model: b }', 'green: { model: c }')],
  ] as const) {
    const { dir, store } = await deadRollout();
    const otherDir = tempDir();
    const other = writePlan(edit(`${simulatedPlan('plan-a', '10s', 0.5)}hooks:\n  on_rollback: { exec: 'echo Z >> hook.log' }\n`), otherDir);
    const run = await runCli(['rollback', '--plan', other], { cwd: dir });
    expect(run.code, name).toBe(2);
    expect(run.stderr).toMatch(
      /is plan "plan-[az]" \(a -> [bc]\), not the plan of the rollout that died, "plan-a" \(a -> b\): its hooks would move another plan's traffic/,
    );
    expect(existsSync(path.join(otherDir, 'hook.log'))).toBe(false);
    expect(store.readState()?.phase).toBe('progressing');
  }
});

it('still takes the same plan moved, or edited (a warning)', async () => {
  const { dir } = await deadRollout();
  const movedDir = tempDir();
  const moved = writePlan(`${simulatedPlan('plan-a', '10s', 0.5)}hooks:\n  on_rollback: { exec: 'echo A2 >> hook.log' }\n`, movedDir);
  const run = await runCli(['rollback', '--plan', moved], { cwd: dir });
  expect(run.code).toBe(0);
  expect(run.stderr).toContain('changed since the rollout started');
  expect(readFileSync(path.join(movedDir, 'hook.log'), 'utf8')).toBe('A2\n');
});

it("a new rollout of another plan on the folder does not run its own on_rollback for the dead one's traffic", async () => {
  // The dead rollout's plan file is gone: the new plan's hook used to stand in, whatever plan it was.
  const { dir, store } = await deadRollout();
  rmSync(path.join(dir, 'plan.yaml'));
  const otherDir = tempDir();
  const other = writePlan(`${simulatedPlan('plan-z', '10s', 0.5)}hooks:\n  on_rollback: { exec: 'echo Z >> hook.log' }\n`, otherDir);
  const run = await runCli(['rollout', other, '--plain', '--state-dir', path.join(dir, '.bluegreen')], { cwd: dir });
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(
    /cannot load .*plan\.yaml, the plan of the rollout that died .*, and .* is plan "plan-z" \(a -> b\), not the plan of the rollout that died/,
  );
  expect(existsSync(path.join(otherDir, 'hook.log'))).toBe(false);
  expect(store.readState()?.phase).toBe('progressing');
});
