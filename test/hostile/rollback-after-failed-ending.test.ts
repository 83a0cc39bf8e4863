// A rollout that rolled back but whose on_rollback failed may have left traffic on green: its record says so ("but
// putting traffic back on blue failed ...: check by hand"). `bluegreen rollback` afterwards said "already ended
// (rolled back, exit 10); nothing to roll back", the operator's and CI's cleanup step reading that all was well.
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';

function failingRollbackPlan(dir: string): string {
  const file = path.join(dir, 'plan.yaml');
  writeFileSync(
    file,
    `
name: failed-ending
upstream:
  simulate: { seed: 3, models: { a: { latency: { p50: 5ms, p95: 10ms } }, b: { latency: { p50: 5ms, p95: 10ms }, error_rate: 0.9 } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 50 }
analysis: { min_requests: 5, thresholds: { error_rate: 0.05 } }
stages:
  - { duration: 30s, green_weight: 0.5 }
hooks:
  on_stage: { exec: 'true' }
  on_rollback: { exec: 'echo gateway refused; exit 1' }
`,
  );
  return file;
}

describe('bluegreen rollback after a rollout whose on_rollback failed', () => {
  it('does not say there is nothing to roll back: it says putting traffic back on blue failed, check by hand', async () => {
    const cwd = tempDir();
    failingRollbackPlan(cwd);
    const run = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], { cwd });
    expect(run.code).toBe(10);
    expect(run.stderr + run.stdout).toContain('but putting traffic back on blue failed (on_rollback hook: exec echo gateway refused; exit 1 exited 1');
    const rollback = await runCli(['rollback', '--state-dir', 'st'], { cwd });
    expect(rollback.stdout).not.toContain('nothing to roll back');
    expect(rollback.stdout).toMatch(
      /^the rollout of plan "failed-ending" already ended \(rolled back, exit 10\), but putting traffic back on blue failed \(on_rollback hook: exec echo gateway refused; exit 1 exited 1: gateway refused\): check by hand that traffic is on blue\n$/,
    );
  });
});
