// hostile27b: a running rollout whose state.json is gone for a moment (moved aside, deleted; its next write makes it
// again). status, rollback and the control commands tell it apart from a dead one (lostRecord's `running`); rollout
// --resume said exit 5 and sent the operator to rollback (which refuses a running one), and --dry-run said a real
// run would put its traffic back on blue, where the real run is refused by the folder's lock.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';

const STARTED_AT = Date.UTC(2026, 0, 2, 3, 4, 5);
const owners: { kill: () => boolean }[] = [];
afterEach(() => {
  for (const owner of owners.splice(0)) owner.kill();
});

/** A folder whose rollout of "demo" runs (its lock names a live process), began stage 1 at 50% green, and has no state.json. */
function runningLostFolder(): { dir: string; stateDir: string; plan: string } {
  const dir = tempDir();
  const plan = writePlan(simulatedPlan('demo', '10s', 0.5), dir);
  const stateDir = path.join(dir, '.bluegreen');
  mkdirSync(stateDir);
  const lines = [
    { at: STARTED_AT, type: 'rollout_started', stage: 0, greenWeight: 0, message: 'rollout "demo" started: a (blue) -> b (green), 2 stages' },
    { at: STARTED_AT + 1001, type: 'stage_started', stage: 0, greenWeight: 0.5, message: 'stage 1/2 started: 50% green for 10s' },
  ];
  appendFileSync(path.join(stateDir, 'events.jsonl'), lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  const owner = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  owners.push(owner);
  const lock = { pid: owner.pid, planName: 'demo', startedAt: STARTED_AT, user: 'alice', host: os.hostname(), token: 't' };
  writeFileSync(path.join(stateDir, 'lock'), JSON.stringify(lock));
  return { dir, stateDir, plan };
}

describe('a running rollout whose state.json is gone for a moment', () => {
  it('rollout --resume (real and --dry-run) refuses it as a running rollout, exit 2, not as a dead one (exit 5)', async () => {
    const { dir, stateDir, plan } = runningLostFolder();
    for (const args of [
      ['--resume', '--ci'],
      ['--resume', '--dry-run'],
    ]) {
      const resume = await runCli(['rollout', plan, '--state-dir', stateDir, ...args], { cwd: dir });
      expect(resume.code).toBe(2);
      expect(resume.stderr).toContain('--resume: there is no unfinished rollout to resume');
      expect(resume.stderr).toContain('is running, but its state.json');
      expect(resume.stderr).not.toContain('bluegreen rollback');
    }
  });

  it('rollout --dry-run does not say a real run would put its traffic back on blue', async () => {
    const { dir, stateDir, plan } = runningLostFolder();
    const dry = await runCli(['rollout', plan, '--state-dir', stateDir, '--dry-run'], { cwd: dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).not.toContain('a real run would put its traffic back on blue');
    expect(dry.stderr).toContain(`bluegreen: warning: a rollout runs in ${stateDir} now (plan "demo", pid `);
    expect(dry.stderr).toContain('a real run there is refused (exit 2) until it ends');
    // The real run is refused by the folder's lock, as for any running rollout.
    const real = await runCli(['rollout', plan, '--state-dir', stateDir, '--ci'], { cwd: dir });
    expect(real.code).toBe(2);
    expect(real.stderr).toContain('another rollout');
  });
});
