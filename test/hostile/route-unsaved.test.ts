// A proxy whose route file can no longer be written (its disk filled, its folder made read-only after it started)
// logged "could not save the route" and answered every route 200. A rollout then promoted a route no restart keeps,
// or rolled back to a blue that a restart replaced with the file's older promotion (reproduced with `chattr +i`: exit
// 10 "rolled back", and the restarted proxy served green). Now such a route is answered 500 naming the file: a rollout
// fails toward blue at its first stage and says why. Real proxies on 127.0.0.1; the file is made unwritable by putting
// a folder in its place (a rename over it fails, for root too).
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { ROUTE_FILE } from '../../src/proxy/route.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { ADMIN_TOKEN, liveFixture, writeRolloutPlan } from '../live/helpers.js';

const fixture = liveFixture();

describe('a proxy that cannot save its route', () => {
  it('answers the route 500 naming the file, and a rollout rolls back at its first stage instead of promoting', async () => {
    const stateDir = tempDir();
    const [proxy] = await fixture.startProxies(1, { stateDirs: [stateDir] });
    const file = path.join(stateDir, ROUTE_FILE);
    rmSync(file, { force: true });
    mkdirSync(path.join(file, 'in-the-way'), { recursive: true });
    const app = fixture.application([proxy!]);
    const dir = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 0.5 }', '{ duration: 1s, green_weight: 1 }'] }, [proxy!]);

    const run = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(run.code, run.stderr).toBe(10);
    const state = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
    expect(state.phase).toBe('rolled_back');
    expect(state.stageIndex).toBe(0);
    expect(state.reason).toContain(`could not save the route to ${file}`);
    expect(state.reason).toContain(': EISDIR; the route (green 0.5, mirror 0 (stage 1/2 of live-test)) is in force until the proxy restarts');
    // The rollback's blue is in force all the same (told 500, the rollout journals it as not confirmed).
    expect(proxy!.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    const journal = readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8');
    expect(journal).toContain('"hook_failed"');
    await app.stop();
    expect(app.failures).toBe(0);
  });
});
