// An on_stage hook that leaves its work running in the background (`set-weight.sh 0.5 &`, a `kubectl ... &`) and
// exits 0 (found by hostile12): the job went on after the rollout rolled back, and set green's weight after
// on_rollback had put traffic on blue. Reproduced by hand: abort 1 s into a stage whose hook ran
// '(sleep 8; set 50) &': the log read 'rollback 0', then 'stage 50' four seconds later.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { isAlive } from '../helpers/processes.js';

it("a hook's background job is stopped when its shell exits: it never sets a weight after the rollback", async () => {
  const dir = tempDir();
  // The job waits for the rollback's marker, then sets stage 1's weight: exactly what must never happen.
  const plan = writePlan(
    `name: background-hook
upstream:
  retries: { max: 0 }
  simulate: { seed: 1, models: { a: { latency: { p50: 5ms, p95: 10ms } }, b: { latency: { p50: 5ms, p95: 10ms }, error_rate: 1 } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 50 }
stages:
  - { duration: 5m, green_weight: 0.5 }
analysis: { thresholds: { consecutive_errors: 3 } }
hooks:
  on_stage: { exec: '(while [ ! -f rolled-back ]; do sleep 0.02; done; echo "stage $BLUEGREEN_GREEN_WEIGHT" >> hook.log) >/dev/null 2>&1 & echo $! > bg.pid' }
  on_rollback: { exec: 'echo "rollback $BLUEGREEN_GREEN_WEIGHT" >> hook.log; touch rolled-back' }
`,
    dir,
  );
  const run = await runCli(['rollout', plan, '--plain', '--state-dir', path.join(dir, 'state')], { cwd: dir });
  expect(run.code).toBe(10);
  // Dead before the rollback began: it can write nothing now, and wrote nothing before.
  expect(isAlive(Number(readFileSync(path.join(dir, 'bg.pid'), 'utf8')))).toBe(false);
  expect(readFileSync(path.join(dir, 'hook.log'), 'utf8').trim().split('\n')).toEqual(['rollback 0']);
  expect(run.stderr).toMatch(/on_stage hook: exec .* exited 0 in .*; what it left running in the background was stopped/);
  // A whole rollout with three hooks: 10 s at load 20 (no retries, so green's failures count at once).
}, 60_000);
