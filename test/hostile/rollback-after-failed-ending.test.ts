// A rollout that rolled back but whose on_rollback failed may have left traffic on green: its record says so ("but
// putting traffic back on blue failed ...: check by hand"). `bluegreen rollback` afterwards said "already ended
// (rolled back, exit 10); nothing to roll back", then only quoted that, exit 0 either way: a CI cleanup step passed
// while no command ever tried the move again. It now runs on_rollback again, exit 0 only once that worked.
import path from 'node:path';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';

/** A plan that rolls back at once (green fails 90%), its on_rollback failing while `gateway-down` exists. */
function failingRollbackPlan(dir: string): void {
  writeFileSync(path.join(dir, 'gateway-down'), '');
  writeFileSync(
    path.join(dir, 'plan.yaml'),
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
  on_rollback: { exec: 'echo run >> rollback-runs; if [ -e gateway-down ]; then echo gateway refused; exit 1; fi' }
`,
  );
}

const runs = (dir: string): number => readFileSync(path.join(dir, 'rollback-runs'), 'utf8').split('\n').filter(Boolean).length;

interface StatusJson {
  phase: string;
  exitCode: number;
  reason: string;
  greenWeight: number;
  greenWeightUnconfirmed?: boolean;
}

async function statusJson(cwd: string): Promise<StatusJson> {
  const status = await runCli(['status', '--json', '--state-dir', 'st'], { cwd });
  expect(status.code).toBe(0);
  return JSON.parse(status.stdout) as StatusJson;
}

/** `status`'s weights line. */
async function weightLine(cwd: string): Promise<string | undefined> {
  const status = await runCli(['status', '--state-dir', 'st'], { cwd });
  return status.stdout.split('\n').find((line) => line.startsWith('  stage '));
}

const UNCONFIRMED = " (unconfirmed: the ending's moves did not all work; see the reason)";

describe('bluegreen rollback after a rollout whose on_rollback failed', () => {
  it('runs on_rollback again: exit 5 while it still fails (the record still says check by hand), exit 0 once it worked', async () => {
    const cwd = tempDir();
    failingRollbackPlan(cwd);
    const run = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], { cwd });
    expect(run.code).toBe(10);
    expect(run.stderr + run.stdout).toContain('but putting traffic back on blue failed (on_rollback hook: exec echo run >> rollback-runs;');
    expect(runs(cwd)).toBe(1);
    // The weight the failed hook was to set is not said as if it were known.
    expect(await weightLine(cwd)).toBe(`  stage 1/1, green 0% / blue 100%${UNCONFIRMED}`);
    expect(await statusJson(cwd)).toMatchObject({ greenWeight: 0, greenWeightUnconfirmed: true });

    const again = await runCli(['rollback', '--state-dir', 'st'], { cwd });
    expect(again.code).toBe(5);
    expect(runs(cwd)).toBe(2);
    expect(again.stderr).toContain(
      'bluegreen: the rollout of plan "failed-ending" ended (rolled back, exit 10), but its move back to blue had failed; trying it again',
    );
    expect(again.stderr).toMatch(
      /on_rollback failed \(.*gateway refused\); traffic may not be on blue, and its record still says to check by hand that traffic is on blue/,
    );
    expect(again.stdout).not.toContain('nothing to roll back');
    const unconfirmed = await statusJson(cwd);
    expect(unconfirmed).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
    expect(unconfirmed.reason).toContain(': check by hand that traffic is on blue');

    // The gateway is back: the next rollback's on_rollback works, and the record says traffic is on blue.
    rmSync(path.join(cwd, 'gateway-down'));
    const fixed = await runCli(['rollback', '--state-dir', 'st'], { cwd });
    expect(fixed.code).toBe(0);
    expect(runs(cwd)).toBe(3);
    expect(fixed.stdout).toMatch(
      /^put the traffic of plan "failed-ending" back on blue, as its ending \(rolled back, exit 10\) could not: on_rollback ran; traffic is back on blue\n$/,
    );
    const confirmed = await statusJson(cwd);
    // The outcome is the rollout's own: a cleanup's rollback does not change it.
    expect(confirmed).toMatchObject({ phase: 'rolled_back', exitCode: 10, greenWeight: 0 });
    expect(confirmed.greenWeightUnconfirmed).toBeUndefined();
    expect(await weightLine(cwd)).toBe('  stage 1/1, green 0% / blue 100%');
    expect(confirmed.reason).not.toContain('check by hand');
    expect(confirmed.reason).toMatch(
      /^green error_rate .*; traffic put back on blue by .* \(bluegreen rollback\), after the ending's own move had failed \(on_rollback hook: .*gateway refused\)$/,
    );
    const events = readFileSync(path.join(cwd, 'st', 'events.jsonl'), 'utf8');
    expect(events).toContain("the ending's own move having failed; the recorded outcome (rolled back, exit 10) is unchanged");

    // Done: nothing more to roll back, and the hook is not run a fourth time.
    const done = await runCli(['rollback', '--state-dir', 'st'], { cwd });
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/already ended \(rolled back, exit 10\); nothing to roll back\n$/);
    expect(runs(cwd)).toBe(3);
  });

  it('leaves a promotion whose on_promote failed alone: on_rollback is not run, the outcome is green', async () => {
    const cwd = tempDir();
    writeFileSync(
      path.join(cwd, 'plan.yaml'),
      `
name: failed-promotion
upstream:
  simulate: { seed: 3, models: { a: { latency: { p50: 5ms, p95: 10ms } }, b: { latency: { p50: 5ms, p95: 10ms } } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 50 }
analysis: { min_requests: 5, thresholds: { error_rate: 0.5 } }
stages:
  - { duration: 1s, green_weight: 0.5 }
hooks:
  on_promote: { exec: 'echo gateway refused; exit 1' }
  on_rollback: { exec: 'echo run >> rollback-runs' }
`,
    );
    const run = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], { cwd });
    expect(run.code).toBe(0);
    expect(run.stderr + run.stdout).toContain('but moving all traffic to green failed (on_promote hook:');
    expect(await weightLine(cwd)).toBe(`  stage 1/1, green 100% / blue 0%${UNCONFIRMED}`);
    expect(await statusJson(cwd)).toMatchObject({ greenWeight: 1, greenWeightUnconfirmed: true });
    const rollback = await runCli(['rollback', '--state-dir', 'st'], { cwd });
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toBe(
      'the rollout of plan "failed-promotion" already ended (promoted, exit 0); bluegreen rollback does not undo a promotion: green (b) stays where the promotion left it; to go back to blue, set blue by hand, as its on_rollback hook does (a plan with no hook and no proxy moved no real traffic)\n',
    );
    expect(existsSync(path.join(cwd, 'rollback-runs'))).toBe(false);
  });
});
