// lows30 (lost29): `rollout --resume` bounds the crashes a saved arm's lost requests came from (lostCrashes) by the runs
// its journal shows (rollout_started lines): a forged huge lost with as huge a lostCrashes passed the max_in_flight
// bound and kept the stage's tests from deciding. That arm's counts are left out, with a warning.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyArmStats } from '../../src/metrics/index.js';
import { runCli } from '../helpers/cli.js';
import { planFromYaml, simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';

describe('rollout --resume of a state.json whose lostCrashes is past the runs its journal shows', () => {
  it("leaves that arm's counts out, saying so", async () => {
    const cwd = tempDir();
    const yaml = simulatedPlan('resume-lost', '1s', 0.5);
    const file = writePlan(yaml, cwd);
    const plan = planFromYaml(yaml, cwd);
    const stage = (index: number, greenWeight: number, green = emptyArmStats()) => ({
      index,
      greenWeight,
      durationMs: 1000,
      verdict: index === 0 ? 'running' : 'pending',
      arms: { blue: emptyArmStats(), green },
    });
    const state = snapshot({
      pid: await deadPid(),
      greenWeight: 0.5,
      updatedAt: 1000,
      plan: {
        name: 'resume-lost',
        file,
        hash: plan.source.hash,
        blueModel: 'a',
        greenModel: 'b',
        stages: [
          { durationMs: 1000, greenWeight: 0.5 },
          { durationMs: 1000, greenWeight: 1 },
        ],
      },
      stages: [stage(0, 0.5, { ...emptyArmStats(), lost: 200_000_000, lostCrashes: 1_000_000 }), stage(1, 1)] as never,
    });
    mkdirSync(path.join(cwd, 'st'));
    writeFileSync(path.join(cwd, 'st', 'state.json'), JSON.stringify(state));
    // One run: the one that died.
    writeFileSync(
      path.join(cwd, 'st', 'events.jsonl'),
      `${JSON.stringify({ at: 500, type: 'rollout_started', stage: 0, greenWeight: 0, message: 'started' })}\n`,
    );
    const run = await runCli(['rollout', file, '--resume', '--plain', '--state-dir', 'st'], { cwd });
    expect(run.stdout + run.stderr).toContain(
      "state.json's stage 1 green counts: requests lost at 1000000 crashes, but the journal shows 1 run of this rollout: left out, so its tests start again on this run's requests",
    );
  });
});
