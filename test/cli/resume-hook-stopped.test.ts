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

it('journals the dead run hook it stopped once, right after the resumed run started', async () => {
  const cwd = tempDir();
  const yaml = simulatedPlan('resume-hook', '200ms', 0.5);
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
