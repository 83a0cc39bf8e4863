// --resume continues a rollout that died mid-stage; one that died while ending (rolling back after a breach,
// aborting, promoting) must not be resumed: resuming sent the green it had just rolled back for at its stage's
// weight again. It refuses, and says to run bluegreen rollback.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RolloutEvent } from '../../src/engine/types.js';
import { runCli } from '../helpers/cli.js';
import { planFromYaml, simulatedPlan, simulatedStagesPlan, tempDir, writePlan } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';

async function deadFolder(phase: 'progressing' | 'rolled_back', events: Partial<RolloutEvent>[]): Promise<{ cwd: string; file: string }> {
  const cwd = tempDir();
  const yaml = simulatedPlan('resume-ending', '10s', 0.5);
  const file = writePlan(yaml, cwd);
  const plan = planFromYaml(yaml, cwd);
  const state = snapshot({
    pid: await deadPid(),
    phase,
    greenWeight: 0.5,
    updatedAt: 1000,
    plan: { name: 'resume-ending', file, hash: plan.source.hash, blueModel: 'a', greenModel: 'b', stages: [{ durationMs: 10_000, greenWeight: 0.5 }] },
    ...(phase === 'rolled_back' && { reason: 'green error_rate 40.0% > 5.0% over 50 requests in stage 1' }),
  });
  mkdirSync(path.join(cwd, 'st'));
  writeFileSync(path.join(cwd, 'st', 'state.json'), JSON.stringify(state));
  writeFileSync(path.join(cwd, 'st', 'events.jsonl'), events.map((event) => `${JSON.stringify({ stage: 0, greenWeight: 0.5, ...event })}\n`).join(''));
  return { cwd, file };
}

const started = { at: 500, type: 'rollout_started', message: 'started' } as const;

describe('rollout --resume on a rollout that died while ending', () => {
  it('refuses when state.json says it was rolling back', async () => {
    const { cwd, file } = await deadFolder('rolled_back', [started, { at: 900, type: 'rolled_back', message: 'rolled back to blue on error_rate' }]);
    const run = await runCli(['rollout', file, '--resume', '--plain', '--state-dir', 'st'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--resume: the rollout that died was already rolling back (green error_rate 40.0% > 5.0% over 50 requests in stage 1)');
    expect(run.stderr).toContain('run bluegreen rollback --state-dir');
  });

  it('refuses when only the journal saw the ending begin (state.json trails it by one write)', async () => {
    const { cwd, file } = await deadFolder('progressing', [started, { at: 2000, type: 'abort_requested', message: 'abort requested by ops@host' }]);
    const run = await runCli(['rollout', file, '--resume', '--plain', '--state-dir', 'st'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--resume: the rollout that died was already ending (abort requested by ops@host)');
  });
});

// loose18: the plan's warnings came first, and the refusal (the operator's problem) after them.
it('says a refused --resume before, and instead of, the plan warnings', async () => {
  const cwd = tempDir();
  // A stage lower than the one before: a plan warning the rollout prints as it starts.
  const stages = [
    { duration: '10s', weight: 0.5 },
    { duration: '10s', weight: 0.25 },
  ];
  const file = writePlan(simulatedStagesPlan('resume-warned', stages), cwd);
  const warned = await runCli(['validate', file], { cwd });
  expect(warned.stdout).toContain('warning: ');
  const run = await runCli(['rollout', file, '--resume', '--plain', '--state-dir', 'st'], { cwd });
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/^bluegreen: --resume: there is no unfinished rollout to resume in \S+ \(no state\)/);
  expect(run.stderr).not.toContain('warning');
});
