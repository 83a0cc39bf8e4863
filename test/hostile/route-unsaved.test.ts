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
import { runCli, testContext } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { ADMIN_TOKEN, liveFixture, writeRolloutPlan } from '../live/helpers.js';
import { restoreBlue } from '../../src/cli/recover.js';
import { loadPlan } from '../../src/plan/load.js';
import { StateStore } from '../../src/state/index.js';
import type { Running } from '../proxy/helpers.js';
import { deadPid, snapshot } from '../state/helpers.js';

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
    expect(state.reason).toBe(
      `proxy ${proxy!.proxy.adminUrl as string} for stage 1 failed: its route is in force but not saved (could not save the route to ${file}: EISDIR), so a restart would serve blue: free its state folder (disk space, permissions)`,
    );
    // The rollback's blue is in force all the same (told 500, the rollout journals it as not confirmed).
    expect(proxy!.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    const journal = readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8');
    expect(journal).toContain('"hook_failed"');
    // The rollback's blue took and was not saved: no lease is involved, and the proxy says what a restart would serve.
    // Found by hostile13: it said "its lease runs out ... and it returns to blue on its own" (and retried for a minute).
    // Found by edges30: the ending said "putting traffic back on blue failed (...): check by hand that traffic is on
    // blue" in 2 KB of nested routes, though blue serves and a restart serves blue too: one short line says so.
    const blue = `proxy ${proxy!.proxy.adminUrl as string}: serving blue; could not save the route to ${file}: EISDIR, so a restart would serve blue`;
    const said = readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; message: string })
      .filter((event) => event.message.startsWith(`proxy ${proxy!.proxy.adminUrl as string}: serving blue`));
    expect(said.map((event) => [event.type, event.message])).toEqual([['hook_succeeded', blue]]);
    expect(state.reason).not.toContain('putting traffic back on blue failed');
    expect(run.stderr).toContain(blue);
    expect(run.stderr).not.toContain('check by hand');
    // Recorded for status (live.json): the proxy's route file says less than it serves (lease-back.ts).
    const live = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'live.json'), 'utf8')) as { proxies: { unsaved?: string }[] };
    expect(live.proxies[0]?.unsaved).toBe(`could not save the route to ${file}: EISDIR`);
    await app.stop();
    expect(app.failures).toBe(0);
  });

  it('`bluegreen rollback` says what a restart would serve (the stage route saved there), not that a lease brings it back', async () => {
    const stateDir = tempDir();
    const [proxy] = (await fixture.startProxies(1, { stateDirs: [stateDir] })) as [Running];
    const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }'] }, [proxy]);
    const file = path.join(dir, 'plan.yaml');
    const plan = loadPlan(file, dir);
    // The dead rollout's stage route, saved; then the folder fills up (the file cannot be replaced any more).
    const lease = Date.now() + 5 * 60_000;
    proxy.proxy.route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: lease, reason: 'stage 1/1 of live-test' });
    await proxy.proxy.route.flush();
    const routeFile = path.join(stateDir, ROUTE_FILE);
    rmSync(routeFile, { force: true });
    mkdirSync(path.join(routeFile, 'in-the-way'), { recursive: true });
    const store = new StateStore(tempDir());
    const dead = snapshot({
      pid: await deadPid(),
      greenWeight: 0.5,
      plan: { name: plan.name, file, hash: plan.source.hash, blueModel: 'gpt-4o', greenModel: 'gpt-4.1', stages: [{ durationMs: 60_000, greenWeight: 0.5 }] },
    });
    await store.writeState(dead);

    const result = await restoreBlue({ store, snapshot: dead, ctx: testContext({ cwd: dir, env: { ADMIN_TOKEN } }), actor: 'ops' });
    expect(result.ok, result.message).toBe(true);
    expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    const said = store.readEvents().find((event) => event.message.includes(proxy.proxy.adminUrl as string));
    // Found by edges31: it said "serving blue, not saved: /admin/route answered 500: …" with the proxy's whole answer
    // (the blue route's reason nested in it), journaled hook_failed though blue serves and a restart ends on blue too.
    // Now in one line, as a rollout's own rollback says it.
    expect(said?.type).toBe('hook_succeeded');
    expect(said?.message).toBe(
      `proxy ${proxy.proxy.adminUrl as string}: serving blue; could not save the route to ${routeFile}: EISDIR, so a restart would serve ` +
        `green 50%, mirror 0% (stage 1/1 of live-test) until its lease runs out at ${new Date(lease).toISOString()}, then blue`,
    );
    expect(said?.message).not.toContain('it returns to blue on its own');
  });
  it('`bluegreen rollback` over a promotion saved there fails in one line: a restart would serve green for good', async () => {
    const stateDir = tempDir();
    const [proxy] = (await fixture.startProxies(1, { stateDirs: [stateDir] })) as [Running];
    const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }'] }, [proxy]);
    const file = path.join(dir, 'plan.yaml');
    const plan = loadPlan(file, dir);
    proxy.proxy.route.set({ greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted: all 1 stages passed' });
    await proxy.proxy.route.flush();
    const routeFile = path.join(stateDir, ROUTE_FILE);
    rmSync(routeFile, { force: true });
    mkdirSync(path.join(routeFile, 'in-the-way'), { recursive: true });
    const store = new StateStore(tempDir());
    const dead = snapshot({
      pid: await deadPid(),
      greenWeight: 1,
      plan: { name: plan.name, file, hash: plan.source.hash, blueModel: 'gpt-4o', greenModel: 'gpt-4.1', stages: [{ durationMs: 60_000, greenWeight: 0.5 }] },
    });
    await store.writeState(dead);

    const result = await restoreBlue({ store, snapshot: dead, ctx: testContext({ cwd: dir, env: { ADMIN_TOKEN } }), actor: 'ops' });
    expect(result.ok).toBe(false);
    expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    const said = store.readEvents().find((event) => event.message.includes(proxy.proxy.adminUrl as string));
    expect(said?.type).toBe('hook_failed');
    expect(said?.message).toMatch(
      new RegExp(
        `^proxy ${proxy.proxy.adminUrl as string}: serving blue; could not save the route to .*: EISDIR, so a restart would serve green: the promotion saved there has no lease \\(.*\\): free its state folder \\(disk space, permissions\\), then put it on blue again \\(PUT /admin/route\\)$`,
      ),
    );
    expect(result.message).toContain('the rollout is still marked unfinished');
  });

  it('`bluegreen rollback` run again once the folder is freed saves the blue a --force-blue could not, over the promotion saved there', async () => {
    const stateDir = tempDir();
    const [proxy] = (await fixture.startProxies(1, { stateDirs: [stateDir] })) as [Running];
    const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }'] }, [proxy]);
    const file = path.join(dir, 'plan.yaml');
    const plan = loadPlan(file, dir);
    // The dead run's promotion (its id in its state.json), saved; then the folder fills up.
    proxy.proxy.route.set({ greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted: all 1 stages passed', controller: 'run-1' });
    await proxy.proxy.route.flush();
    const routeFile = path.join(stateDir, ROUTE_FILE);
    rmSync(routeFile, { force: true });
    mkdirSync(path.join(routeFile, 'in-the-way'), { recursive: true });
    const store = new StateStore(tempDir());
    const dead = {
      ...snapshot({
        pid: await deadPid(),
        greenWeight: 1,
        plan: { name: plan.name, file, hash: plan.source.hash, blueModel: 'gpt-4o', greenModel: 'gpt-4.1', stages: [{ durationMs: 60_000, greenWeight: 0.5 }] },
      }),
      liveResume: { controllers: ['run-1'], read: {}, proxies: [proxy.proxy.adminUrl as string] },
    } as RolloutSnapshot;
    await store.writeState(dead);
    const ctx = () => testContext({ cwd: dir, env: { ADMIN_TOKEN } });

    // Blue by hand (no run id) in force, not saved: a restart would serve the promotion. Unfinished, as it says.
    const forced = await restoreBlue({ store, snapshot: dead, ctx: ctx(), actor: 'ops', forceBlue: true });
    expect(forced.ok).toBe(false);
    expect(forced.message).toContain('so a restart would serve green');
    expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    // The folder freed, the rollback run again (without --force-blue): the blue it finds is sent again, and saved.
    // It was taken for "already on blue, set by hand": marked rolled back, the file still holding the promotion.
    rmSync(routeFile, { recursive: true, force: true });
    const again = await restoreBlue({ store, snapshot: dead, ctx: ctx(), actor: 'ops' });
    expect(again.ok, again.message).toBe(true);
    expect(again.message).toContain(`proxy ${proxy.proxy.adminUrl as string}: back on blue`);
    const saved = JSON.parse(readFileSync(routeFile, 'utf8')) as { greenWeight: number; promotedArm?: string };
    expect(saved).toMatchObject({ greenWeight: 0, mirror: 0 });
    expect(saved.promotedArm).toBeUndefined();
    expect(store.readState()?.phase).toBe('rolled_back');
  });
});
