// The record a recovery leaves says who put traffic back on blue, and keeps why the dead rollout was ending:
// it said "rolled back to blue by bluegreen rollback" when a new rollout did it, and dropped the breach that
// a rollout killed during its on_rollback hook was rolling back for.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreBlue } from '../../src/cli/recover.js';
import { StateStore } from '../../src/state/index.js';
import { testContext } from '../helpers/cli.js';
import { planFromYaml, simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';

async function recover(actor: string, reason: string | undefined, hookInFlight?: { stage: number; greenWeight: number }) {
  const dir = tempDir();
  const yaml = `${simulatedPlan('recover', '10s', 0.5)}hooks:\n  on_rollback: { exec: 'printf "%s" "$BLUEGREEN_REASON" > reason.txt' }\n`;
  const file = writePlan(yaml, dir);
  const plan = planFromYaml(yaml, dir);
  const store = new StateStore(path.join(dir, '.bluegreen'));
  const dead = snapshot({
    pid: await deadPid(),
    phase: reason === undefined ? 'progressing' : 'rolled_back',
    greenWeight: 0.5,
    plan: { name: 'recover', file, hash: plan.source.hash, blueModel: 'a', greenModel: 'b', stages: [{ durationMs: 10_000, greenWeight: 0.5 }] },
    ...(reason !== undefined && { reason }),
  });
  await store.writeState(dead);
  // The on_stage hook it was running when it died (its group gone): hook.json names the weight it was setting.
  if (hookInFlight)
    writeFileSync(
      path.join(store.dir, 'hook.json'),
      JSON.stringify({ pgid: await deadPid(), plan: 'recover', event: 'stage', pid: dead.pid, ...hookInFlight }),
    );
  const result = await restoreBlue({ store, snapshot: dead, ctx: testContext({ cwd: dir }), actor, now: () => 5 });
  return { result, state: store.readState(), hookReason: readFileSync(path.join(dir, 'reason.txt'), 'utf8') };
}

describe('a recovered rollout', () => {
  it('names who rolled it back', async () => {
    const { result, state } = await recover('ops@host (bluegreen rollout)', undefined);
    expect(result.ok).toBe(true);
    expect(state?.reason).toMatch(
      /^the rollout's process \(pid \d+\) died at stage 1\/1 with green at 50%; rolled back to blue by ops@host \(bluegreen rollout\)$/,
    );
  });

  it("keeps the reason the dead rollout was ending for, in the record and the hook's BLUEGREEN_REASON", async () => {
    const breach = 'green error_rate 40.0% (at least 20.1%, 99.5% sure) > 5.0% over 50 requests in stage 1';
    const { state, hookReason } = await recover('ops@host (bluegreen rollback)', breach);
    expect(hookReason).toContain(`while it was rolling back (${breach})`);
    expect(state?.reason).toContain(`while it was rolling back (${breach}); rolled back to blue by ops@host (bluegreen rollback)`);
  });

  it('says the weight the on_stage hook it died in was setting: green was at the saved weight or that one', async () => {
    const { state, hookReason } = await recover('ops@host (bluegreen rollback)', undefined, { stage: 1, greenWeight: 1 });
    const died = "died at stage 1/1 with green at 50% or 100% (its on_stage hook setting stage 1's 100% green was running when it died)";
    expect(hookReason).toContain(died);
    expect(state?.reason).toContain(`${died}; rolled back to blue by ops@host (bluegreen rollback)`);
  });
});
