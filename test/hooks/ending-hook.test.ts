// An ending without a hook of its own still moves traffic: a plan that sets weights with on_stage (and maybe
// on_rollback) alone used to end "aborted; traffic is back on blue" or "rolled back to blue" with the gateway
// still at green's share, since no hook ran.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HookCall, HookRunner } from '../../src/engine/deps.js';
import { HookActuator } from '../../src/engine/hook-actuator.js';
import { endingHook } from '../../src/hooks/ending-hook.js';
import { StateStore } from '../../src/state/index.js';
import { runCli } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml, simulatedPlan, simulatedStagesPlan, tempDir } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';

const stage = { exec: './set-weight.sh', timeout: 30_000, retries: 2 };
const rollback = { exec: './to-blue.sh', timeout: 30_000, retries: 2 };

describe('endingHook', () => {
  it("runs an ending's own hook when the plan has it", () => {
    expect(endingHook({ on_stage: stage, on_rollback: rollback, on_abort: rollback }, 'abort')).toEqual({
      hook: rollback,
      key: 'on_abort',
      label: 'on_abort hook',
      name: 'on_abort',
    });
  });

  it('stands in on_rollback for a missing on_abort, and on_stage for any missing ending', () => {
    expect(endingHook({ on_stage: stage, on_rollback: rollback }, 'abort')).toMatchObject({
      hook: rollback,
      key: 'on_rollback',
      label: 'on_rollback hook (for on_abort, which the plan has not)',
    });
    expect(endingHook({ on_stage: stage }, 'abort')?.hook).toBe(stage);
    expect(endingHook({ on_stage: stage }, 'rollback')).toMatchObject({ hook: stage, name: 'on_stage (for on_rollback, which the plan has not)' });
    expect(endingHook({ on_stage: stage, on_rollback: rollback }, 'promote')?.hook).toBe(stage);
  });

  it('runs nothing for a plan without hooks, or without one that sets a weight', () => {
    expect(endingHook(undefined, 'rollback')).toBeUndefined();
    expect(endingHook({ on_promote: stage }, 'rollback')).toBeUndefined();
  });
});

/** A plan whose only hook is on_stage, its hook runs recorded; `succeeds` says which of them exit 0. */
function onStageOnly(succeeds: (call: HookCall) => boolean) {
  const plan = planFromYaml(`${simulatedPlan('hooks', '1s', 0.5)}hooks:\n  on_stage: { exec: ./set-weight.sh }\n`);
  const calls: HookCall[] = [];
  const runHook: HookRunner = (_hook, call) => {
    calls.push(call);
    const ok = succeeds(call);
    return Promise.resolve({ ok, message: ok ? 'exited 0' : 'exited 1' });
  };
  return { actuator: new HookActuator(plan, runHook, new FakeClock()), calls };
}

describe('the rollout ending with only on_stage set', () => {
  it('runs on_stage with the ending event and green at 0, labelled as a stand-in', async () => {
    const { actuator, calls } = onStageOnly(() => true);
    await actuator.applyStage({ stage: 0, stages: 2, greenWeight: 0.5 });
    const ending = await actuator.applyEnding({ event: 'abort', stage: 0, stages: 2, greenWeight: 0, reason: 'aborted by ops' });
    expect(ending).toEqual([{ ok: true, label: 'on_stage hook (for on_abort, which the plan has not)', message: 'exited 0' }]);
    expect(calls.map((call) => [call.event, call.greenWeight])).toEqual([
      ['stage', 0.5],
      ['abort', 0],
    ]);
  });
});

describe('bluegreen rollback on a plan with only on_stage', () => {
  it('puts green at 0 through on_stage rather than marking the state rolled back with traffic left on green', async () => {
    const dir = tempDir();
    const planFile = path.join(dir, 'plan.yaml');
    writeFileSync(
      planFile,
      `${simulatedStagesPlan('only-stage', [{ duration: '60s', weight: 0.5 }])}hooks:\n  on_stage: { exec: 'echo "$BLUEGREEN_EVENT $BLUEGREEN_GREEN_WEIGHT" >> weight.log' }\n`,
    );
    const store = new StateStore(path.join(dir, '.bluegreen'));
    await store.writeState(snapshot({ pid: await deadPid(), plan: { ...snapshot().plan, name: 'only-stage', file: planFile } }));
    const run = await runCli(['rollback'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('on_stage (for on_rollback, which the plan has not) ran; traffic is back on blue');
    expect(readFileSync(path.join(dir, 'weight.log'), 'utf8')).toBe('rollback 0\n');
    expect(readFileSync(store.eventsPath, 'utf8')).toContain('on_stage hook (for on_rollback, which the plan has not): exec');
  });
});

describe('a stand-in on_stage whose weight is already set', () => {
  it('is not run again: a promotion after a last stage at 100% moves nothing', async () => {
    const { actuator, calls } = onStageOnly(() => true);
    await actuator.applyStage({ stage: 1, stages: 2, greenWeight: 1 });
    expect(await actuator.applyEnding({ event: 'promote', stage: 1, stages: 2, greenWeight: 1, reason: 'all stages passed' })).toEqual([]);
    expect(calls.map((call) => call.event)).toEqual(['stage']);
  });

  it('is run when the last on_stage failed, since where it left traffic is unknown', async () => {
    const { actuator, calls } = onStageOnly((call) => call.event !== 'stage');
    await actuator.applyStage({ stage: 0, stages: 2, greenWeight: 0 });
    await actuator.applyEnding({ event: 'rollback', stage: 0, stages: 2, greenWeight: 0, reason: 'on_stage failed' });
    expect(calls.map((call) => [call.event, call.greenWeight])).toEqual([
      ['stage', 0],
      ['rollback', 0],
    ]);
  });
});
