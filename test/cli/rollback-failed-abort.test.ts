// A rollout aborted by an operator whose on_abort hook failed (a plan with on_abort and no on_rollback): its record
// says "check by hand that traffic is on blue". `bluegreen rollback` looked for on_rollback or on_stage only, found
// neither and exited 5 ("run it again") every time, with nothing it could ever run; a new rollout on the folder started
// without trying the move again. The move that failed, on_abort, is now what both make again.
import path from 'node:path';
import { readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { StateStore } from '../../src/state/index.js';

const ON_ABORT = `  on_abort: { exec: 'echo "$BLUEGREEN_EVENT" >> abort-runs; if [ -e gateway-down ]; then echo gateway refused; exit 1; fi' }\n`;

function planText(stage: string, hooks: string): string {
  return `
name: failed-abort
upstream:
  simulate: { seed: 3, models: { a: { latency: { p50: 5ms, p95: 10ms } }, b: { latency: { p50: 5ms, p95: 10ms } } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 50 }
analysis: { min_requests: 5, on_unjudged: promote }
stages:
  - { duration: ${stage}, green_weight: 0.5 }
hooks:
${hooks}`;
}

const runs = (dir: string): string[] =>
  existsSync(path.join(dir, 'abort-runs')) ? readFileSync(path.join(dir, 'abort-runs'), 'utf8').split('\n').filter(Boolean) : [];

/** A folder whose rollout an operator aborted and whose on_abort failed (the gateway down). */
async function abortedWithFailedHook(): Promise<string> {
  const cwd = tempDir();
  writeFileSync(path.join(cwd, 'gateway-down'), '');
  writeFileSync(path.join(cwd, 'plan.yaml'), planText('5m', ON_ABORT));
  const store = new StateStore(path.join(cwd, 'st'));
  const rollout = runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], { cwd });
  await until(() => store.readState()?.phase === 'progressing', 'the rollout to run its stage');
  const abort = await runCli(['abort', '--state-dir', 'st'], { cwd });
  expect(abort.code, abort.stderr).toBe(0);
  const run = await rollout;
  expect(run.code).toBe(4);
  expect(store.readState()?.reason).toMatch(
    /, but putting traffic back on blue failed \(on_abort hook: .*gateway refused.*\): check by hand that traffic is on blue$/,
  );
  expect(runs(cwd)).toEqual(['abort']);
  return cwd;
}

describe('an aborted rollout whose on_abort failed (no on_rollback in the plan)', () => {
  it('bluegreen rollback runs on_abort again: exit 5 while it fails, exit 0 once it worked', async () => {
    const cwd = await abortedWithFailedHook();
    const failing = await runCli(['rollback', '--state-dir', 'st'], { cwd });
    expect(failing.code, failing.stderr).toBe(5);
    expect(failing.stderr).toMatch(/on_abort failed \(.*gateway refused.*\); traffic may not be on blue, and its record still says to check by hand/);
    // Told the event it ran for, as the rollout told it.
    expect(runs(cwd)).toEqual(['abort', 'abort']);

    rmSync(path.join(cwd, 'gateway-down'));
    const fixed = await runCli(['rollback', '--state-dir', 'st'], { cwd });
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toBe(
      'put the traffic of plan "failed-abort" back on blue, as its ending (aborted, exit 4) could not: on_abort ran; traffic is back on blue\n',
    );
    expect(runs(cwd)).toHaveLength(3);
    const status = await runCli(['status', '--json', '--state-dir', 'st'], { cwd });
    expect(JSON.parse(status.stdout)).toMatchObject({ phase: 'aborted', exitCode: 4, greenWeight: 0 });
    expect(JSON.parse(status.stdout).greenWeightUnconfirmed).toBeUndefined();
  });

  it('with no hook left in the plan to make that move, rollback says so and what to do: exit 2, not a "run it again" 5', async () => {
    const cwd = await abortedWithFailedHook();
    writeFileSync(path.join(cwd, 'plan.yaml'), planText('5m', '  pass_env: []\n'));
    for (let i = 0; i < 2; i++) {
      const run = await runCli(['rollback', '--state-dir', 'st'], { cwd });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain('the rollout ended (aborted, exit 4), but its move back to blue had failed (on_abort hook: ');
      expect(run.stderr).toContain(
        'has no on_abort, on_rollback or on_stage hook and no proxies now: bluegreen has nothing to move your traffic with, and its record still says to check by hand that traffic is on blue. Check by hand that traffic is on blue, or put that hook back in the plan (or pass the plan that has it with --plan FILE) and run bluegreen rollback again',
      );
    }
    expect(runs(cwd)).toEqual(['abort']);
  });

  it('a new rollout on the folder makes that move first, and does not start while it fails', async () => {
    const cwd = await abortedWithFailedHook();
    const store = new StateStore(path.join(cwd, 'st'));
    const dry = await runCli(['rollout', 'plan.yaml', '--dry-run', '--state-dir', 'st'], { cwd });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      /first: the rollout of plan "failed-abort" ended \(aborted, exit 4\), but its move back to blue had failed \(on_abort hook: .*\); a real run would put its traffic back on blue \(as bluegreen rollback does\): its on_abort hook run, before its own first stage/,
    );
    expect(runs(cwd)).toEqual(['abort']);

    const refused = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], { cwd });
    expect(refused.code, refused.stderr).toBe(5);
    expect(refused.stderr).toContain('but its move back to blue had failed (on_abort hook: ');
    expect(refused.stderr).toContain('; trying that move again before starting');
    expect(refused.stderr).toMatch(/on_abort failed \(.*gateway refused.*\); .*; not starting a new rollout/);
    expect(runs(cwd)).toEqual(['abort', 'abort']);
    expect(store.readState()).toMatchObject({ phase: 'aborted', exitCode: 4 });

    rmSync(path.join(cwd, 'gateway-down'));
    writeFileSync(path.join(cwd, 'plan.yaml'), planText('1s', ON_ABORT));
    const started = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', 'st'], { cwd });
    expect(started.code, started.stderr).toBe(0);
    expect(runs(cwd)).toEqual(['abort', 'abort', 'abort']);
    expect(store.readState()).toMatchObject({ phase: 'promoted' });
  });
});
