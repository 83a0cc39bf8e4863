// `rollout --resume` stops a hook the dead run left running, and says so once: the message went to the journal
// before the resumed run's rollout_started (with the actor) and again after it, as a start warning (c380ed2), which
// the dashboard shows. One copy now: the start warning's.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { StateStore } from '../../src/state/index.js';
import { runCli } from '../helpers/cli.js';
import { isAlive } from '../helpers/processes.js';
import { planFromYaml, simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { deadPid, orphanHook, snapshot } from '../state/helpers.js';
import { refusedPort } from '../live/helpers.js';

/** A dead run of `yaml` in cwd/st, with an on_stage hook it left running; the hook's process group. */
async function deadRunWithHook(cwd: string, yaml: string): Promise<{ file: string; dir: string; hook: number }> {
  const file = writePlan(yaml, cwd);
  const plan = planFromYaml(yaml, cwd);
  const pid = await deadPid();
  const stages = plan.stages.map((stage) => ({ durationMs: stage.duration, greenWeight: stage.green_weight }));
  const dead = snapshot({ pid, greenWeight: 0.5, plan: { name: plan.name, file, hash: plan.source.hash, blueModel: 'a', greenModel: 'b', stages } });
  const dir = path.join(cwd, 'st');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'state.json'), JSON.stringify(dead));
  writeFileSync(path.join(dir, 'events.jsonl'), `${JSON.stringify({ at: 500, type: 'rollout_started', stage: 0, greenWeight: 0.5, message: 'started' })}\n`);
  const hook = await orphanHook(dir, 'echo ready; exec sleep 600', { plan: plan.name, pid });
  return { file, dir, hook };
}

it('journals the dead run hook it stopped once, right after the resumed run started', async () => {
  const cwd = tempDir();
  const { file, dir, hook } = await deadRunWithHook(cwd, simulatedPlan('resume-hook', '200ms', 0.5));
  const run = await runCli(['rollout', file, '--resume', '--plain', '--state-dir', 'st', '--seed', '1'], { cwd });
  expect(run.code, run.stderr).toBe(0);
  expect(isAlive(hook)).toBe(false);
  const events = new StateStore(dir).readEvents();
  const stopped = events.filter((event) => event.message.includes(`left running by the dead rollout`));
  expect(stopped.map((event) => event.message)).toEqual([`stopped the on_stage hook (process group ${hook}) left running by the dead rollout`]);
  // Where the dashboard shows it: among the resumed run's start warnings.
  const resumed = events.findLastIndex((event) => event.type === 'rollout_started');
  expect(events.indexOf(stopped[0] as (typeof events)[number])).toBeGreaterThan(resumed);
  expect(stopped[0]?.type).toBe('warning');
});

it('a resumed run that stopped the dead run hook and then failed its preflight (exit 3) journals the stop all the same', async () => {
  // Before: said on stderr alone, with the failed start's warnings; the kept journal did not say the hook was stopped.
  const cwd = tempDir();
  const yaml = simulatedPlan('resume-hook', '200ms', 0.5).replace(/simulate: .*/, `base_url: "http://127.0.0.1:${await refusedPort()}/v1"\n  api_key_env: KEY`);
  const { file, dir, hook } = await deadRunWithHook(cwd, yaml);
  const run = await runCli(['rollout', file, '--resume', '--plain', '--state-dir', 'st', '--seed', '1'], { cwd, env: { KEY: 'sk-test' } });
  expect(run.code, run.stderr).toBe(3);
  expect(isAlive(hook)).toBe(false);
  const said = `stopped the on_stage hook (process group ${hook}) left running by the dead rollout`;
  expect(run.stderr).toContain(`bluegreen: warning: ${said}`);
  const events = new StateStore(dir).readEvents();
  expect(events.filter((event) => event.message === said)).toMatchObject([
    { type: 'warning', stage: 0, actor: expect.stringContaining('(bluegreen rollout --resume)') },
  ]);
  // The record is kept as the dead run left it: no rollout_started of a run that never started.
  expect(events.filter((event) => event.type === 'rollout_started')).toHaveLength(1);
});
