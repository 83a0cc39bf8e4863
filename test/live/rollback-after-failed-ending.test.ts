// A live rollout that ended (rolled back) while one of its proxies did not take blue: its reason says "putting
// traffic back on blue failed (proxy ...): check by hand". `bluegreen rollback` afterwards ran nothing and exited
// 0; it now tells the proxies blue, as for a dead run, and records that once it worked.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { afterMoves, endings } from '../../src/engine/endings.js';
import { loadPlan } from '../../src/plan/load.js';
import { StateStore } from '../../src/state/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { snapshot } from '../state/helpers.js';
import { ADMIN_TOKEN, liveFixture, writeRolloutPlan } from './helpers.js';

const fixture = liveFixture();

describe('bluegreen rollback after a live rollout whose proxy missed its rollback', () => {
  it('tells the proxy blue, exit 0, and the record then says traffic was put back on blue (outcome kept)', async () => {
    const [proxy] = (await fixture.startProxies(1)) as [Running];
    const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }'] }, [proxy]);
    const file = path.join(dir, 'plan.yaml');
    const plan = loadPlan(file, dir);
    const store = new StateStore(tempDir());
    const ending = afterMoves(endings.aborted('bob'), [`proxy ${proxy.proxy.adminUrl as string}: connect ECONNREFUSED`]);
    await store.writeState(
      snapshot({
        phase: ending.phase,
        exitCode: ending.exitCode,
        reason: ending.reason,
        endedAt: 10,
        updatedAt: 10,
        plan: { name: plan.name, file, hash: plan.source.hash, blueModel: 'gpt-4o', greenModel: 'gpt-4.1', stages: [{ durationMs: 60_000, greenWeight: 0.5 }] },
      }),
    );
    // The stage's split, which the ending's blue never reached.
    proxy.proxy.route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: Date.now() + 600_000, reason: 'stage 1/1' });

    const rollback = await runCli(['rollback', '--state-dir', store.dir], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain(`proxy ${proxy.proxy.adminUrl as string}: back on blue`);
    expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    const record = store.readState();
    expect(record).toMatchObject({ phase: 'aborted', exitCode: 4 });
    expect(record?.reason).toMatch(/^aborted by bob; traffic put back on blue by .* \(bluegreen rollback\), after the ending's own move had failed \(proxy /);
    expect((await runCli(['rollback', '--state-dir', store.dir], { cwd: dir, env: { ADMIN_TOKEN } })).stdout).toContain('nothing to roll back');
  });
});
