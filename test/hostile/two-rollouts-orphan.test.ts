// review14: the proxy keeps one rollout run's route from another (tworoll14: a new run's first route is refused
// over another run's live lease; a run's ending never undoes another's completed promotion). But a dead run's
// recovery put its proxies on blue by hand (no controller, so the proxy could not tell it from an operator's
// emergency stop), and a new rollout started on the dead run's folder runs that recovery before its preflight.
// orphan15: the recovery undoes only the dead run's own route (src/live/restore.ts): a proxy whose route another
// run set since is left as it is and said; the blue it sends carries the dead run's ids (state.json's liveResume),
// so the proxy itself refuses it over another run's promotion; `bluegreen rollback --force-blue` is blue by hand.
// Run 1 killed (kill -9) in folder A, its lease run out; run 2 from folder B drives the proxy (or has promoted it).
// Real proxy and rollout processes on 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { BIN, exitOf } from '../e2e/helpers.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { ADMIN_TOKEN, Application, freePorts, ProxyProcess, writeRolloutPlan } from '../live/helpers.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

function rollout(dir: string): ChildProcess & { stderrText: () => string } {
  const child = spawn(process.execPath, [BIN, 'rollout', 'plan.yaml', '--ci'], {
    cwd: dir,
    env: { PATH: process.env.PATH, ADMIN_TOKEN },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  return Object.assign(child, { stderrText: () => stderr });
}

const LAPSED = 'lease expired: back on blue';

/** `count` proxy processes, started side by side on ports taken together (ports taken apart could be the same one). */
async function startProxies(count: number): Promise<ProxyProcess[]> {
  const ports = await freePorts(2 * count);
  const proxies = Array.from({ length: count }, (_, i) => new ProxyProcess(tempDir(), { listen: ports[2 * i] as number, admin: ports[2 * i + 1] as number }));
  for (const proxy of proxies) cleanup.push(() => proxy.kill());
  await Promise.all(proxies.map((proxy) => proxy.start()));
  return proxies;
}

/**
 * Proxies whose first rollout (folder A) was killed with kill -9 mid-stage, and (if `lapsed`) whose lease has run out
 * since; run 1's controller id, as its state.json recorded it. Run 1's lease is long (its admin calls time out at a
 * third of it, 2 s at most: a 3 s lease's 1 s rolled it back on a stall of a loaded machine); its last renewal, sent
 * in its name once it is dead (renewFor), has a short one, which the proxy then lets run out.
 */
async function orphanedProxies(count: number, { lapsed = true } = {}): Promise<{ proxies: ProxyProcess[]; folderA: string; run1: string }> {
  const proxies = await startProxies(count);
  const folderA = writeRolloutPlan(
    { stages: ['{ duration: 10m, green_weight: 0.5 }'], controller: 'lease: 5m' },
    proxies.map((proxy) => proxy.adminUrl),
  );
  const first = rollout(folderA);
  await until(() => proxies.every((proxy) => proxy.route()?.greenWeight === 0.5), 'run 1 on the proxies');
  first.kill('SIGKILL');
  await once(first, 'exit');
  if (lapsed) {
    await Promise.all(proxies.map((proxy) => proxy.renewFor(100)));
    await until(() => proxies.every((proxy) => proxy.route()?.reason === LAPSED), "run 1's lease to run out");
  }
  const run1 = proxies[0]?.route()?.controller;
  expect(stateOf(folderA).liveResume?.controllers).toEqual([run1]);
  return { proxies, folderA, run1: run1 as string };
}

async function orphanedProxy(): Promise<{ proxy: ProxyProcess; folderA: string }> {
  const { proxies, folderA } = await orphanedProxies(1);
  return { proxy: proxies[0] as ProxyProcess, folderA };
}

function stateOf(folder: string): { liveResume?: { controllers: string[] } } & Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(folder, '.bluegreen', 'state.json'), 'utf8')) as { liveResume?: { controllers: string[] } };
}

/** Run 2 from folder B: a one-stage rollout through `proxy` that promotes green (exit 0). */
async function promoteFromFolderB(proxy: ProxyProcess): Promise<void> {
  const app = new Application([proxy], 1);
  cleanup.push(() => app.stop());
  // A lease the test never waits out: a 3 s lease's 1 s admin timeout rolled back on a stall (proxy_unreachable). A
  // 300 ms stage, not 1 s: its promotion is what the tests need (a stage that judged nothing is promoted too, on_unjudged).
  const folderB = writeRolloutPlan({ stages: ['{ duration: 300ms, green_weight: 0.5 }'], controller: 'lease: 5m' }, [proxy.adminUrl]);
  const promoted = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: folderB, env: { ADMIN_TOKEN } });
  expect(promoted.code, promoted.stderr).toBe(0);
  expect(proxy.route()).toMatchObject({ promotedArm: 'green', ended: true });
}

// review14 (MEDIUM, fixed by orphan15): the held lease was bypassed by a new rollout on a folder holding a dead
// run. Its recovery (run-rollout.ts settlePrevious -> recover.ts restoreBlue -> restore.ts proxiesToBlue) put the
// proxy on blue by hand over run 2's live stage, its preflight then found the proxy free and took it: run 2's
// renewal was refused and run 2 rolled back (exit 10). Now the recovery leaves a proxy another run drives alone (as
// an actuator's rollback does, heldByOther), and the new run stops at preflight (exit 3) while run 2 goes on.
it("a new rollout on a dead run's folder does not take the proxy from the run driving it now", async () => {
  const { proxy, folderA } = await orphanedProxy();
  const folderB = writeRolloutPlan({ stages: ['{ duration: 10m, green_weight: 0.5 }'], controller: 'lease: 5m' }, [proxy.adminUrl]);
  const second = rollout(folderB);
  await until(() => proxy.route()?.greenWeight === 0.5 && proxy.route()?.reason !== LAPSED, 'run 2 on the proxy');
  const holder = proxy.route()?.controller;

  const third = rollout(folderA);
  await until(() => third.exitCode !== null || proxy.route()?.controller !== holder, 'run 3 to stop, or the proxy to change hands');
  // Its preflight's refusal is its last line, written just before it exits: 'exit' can be seen before that is read.
  if (third.exitCode !== null) await exitOf(third);
  expect(proxy.route()?.controller, third.stderrText()).toBe(holder);
  expect(third.exitCode, third.stderrText()).toBe(3);
  expect(second.exitCode).toBeNull();
  // The recovery says what it left, and why; the preflight then says whose the proxy is.
  expect(third.stderrText()).toContain(`proxy ${proxy.adminUrl}: left as it is: another rollout drives it now (green 50%`);
  expect(third.stderrText()).toContain('another rollout drives this proxy until its lease runs out');
}, 120_000);

// review14 (MEDIUM, a design call; fixed by orphan15): `bluegreen rollback` of a dead run undid a promotion another
// run completed (exit 0) since, the session-13 case tworoll14 closed for a live run's ending: the operator asked to
// put run 1's traffic back on blue, which its lease did long ago, and was told "back on blue" while run 2's CI job
// reported green promoted. Now the recovery leaves that proxy as it is, and says what it serves, who promoted it
// and how to put it on blue anyway; its blue would carry run 1's ids, so the proxy refuses it too (409 promoted).
it('bluegreen rollback of a dead run does not undo the promotion another run completed since', async () => {
  const { proxy, folderA } = await orphanedProxy();
  await promoteFromFolderB(proxy);

  const rollback = await runCli(['rollback'], { cwd: folderA, env: { ADMIN_TOKEN } });
  expect(rollback.code, rollback.stderr).toBe(0);
  expect(proxy.route(), rollback.stdout).toMatchObject({ promotedArm: 'green' });
  expect(rollback.stdout).toContain(`proxy ${proxy.adminUrl}: left serving green: another rollout promoted green here (promoted green`);
  expect(rollback.stdout).toMatch(
    /, after this rollout's last record \([^)]+\), by \S+ pid \d+, state folder .*, and reported it done\); to put it on blue all the same: bluegreen rollback --force-blue --state-dir /,
  );
  // The dead rollout is settled all the same: its own traffic left that proxy long ago.
  expect(stateOf(folderA).phase).toBe('rolled_back');
}, 120_000);

it('bluegreen rollback --force-blue puts a proxy another run promoted since on blue, by hand', async () => {
  const { proxy, folderA } = await orphanedProxy();
  await promoteFromFolderB(proxy);

  const rollback = await runCli(['rollback', '--force-blue'], { cwd: folderA, env: { ADMIN_TOKEN } });
  expect(rollback.code, rollback.stderr).toBe(0);
  expect(rollback.stdout).toContain(`proxy ${proxy.adminUrl}: back on blue`);
  const route = proxy.route();
  expect(route).toMatchObject({ greenWeight: 0, mirror: 0 });
  // Blue by hand: no controller, so the proxy lets it over the promotion, as an operator's PUT.
  expect(route?.promotedArm).toBeUndefined();
  expect(route?.controller).toBeUndefined();
  expect(route?.reason).toMatch(/^rollback: the rollout's process \(pid \d+\) died/);
}, 120_000);

it('a dead run whose own route still stands is put back on blue at once, as its own ending (its ids)', async () => {
  // A lease far longer than the test: the dead run's 50% stands until the rollback.
  const { proxies, folderA, run1 } = await orphanedProxies(1, { lapsed: false });
  const proxy = proxies[0] as ProxyProcess;
  expect(proxy.route()).toMatchObject({ greenWeight: 0.5, controller: run1 });

  const rollback = await runCli(['rollback'], { cwd: folderA, env: { ADMIN_TOKEN } });
  expect(rollback.code, rollback.stderr).toBe(0);
  expect(rollback.stdout).toContain(`proxy ${proxy.adminUrl}: back on blue`);
  expect(proxy.route()).toMatchObject({ greenWeight: 0, mirror: 0, controller: run1, ended: true });
  expect(proxy.route()?.reason).toMatch(/^rollback: the rollout's process \(pid \d+\) died at stage 1\/1 with green at /);
}, 120_000);

it('a dead run recorded before its ids were kept is put back on blue by hand, as before (over a promotion too)', async () => {
  const { proxy, folderA } = await orphanedProxy();
  await promoteFromFolderB(proxy);
  // A state.json written before liveResume was kept: nothing says which routes were the dead run's.
  const { liveResume: _dropped, ...older } = stateOf(folderA);
  writeFileSync(path.join(folderA, '.bluegreen', 'state.json'), JSON.stringify(older));

  const rollback = await runCli(['rollback'], { cwd: folderA, env: { ADMIN_TOKEN } });
  expect(rollback.code, rollback.stderr).toBe(0);
  expect(proxy.route()).toMatchObject({ greenWeight: 0, mirror: 0 });
  expect(proxy.route()?.promotedArm).toBeUndefined();
  expect(proxy.route()?.controller).toBeUndefined();
}, 120_000);

it("several proxies: the dead run's own goes back to blue, one another run took is left to it, a silent one to its lease", async () => {
  const { proxies, folderA, run1 } = await orphanedProxies(3);
  const [own, taken, silent] = proxies as [ProxyProcess, ProxyProcess, ProxyProcess];
  // Run 2 drives the second proxy only; the third is killed (kill -9) and does not answer. Run 2's lease: 6 s, its
  // renewal every 2 s awaited below, its admin calls' timeout the longest there is (2 s).
  const folderB = writeRolloutPlan({ stages: ['{ duration: 10m, green_weight: 0.5 }'], controller: 'lease: 6s' }, [taken.adminUrl]);
  const second = rollout(folderB);
  await until(() => taken.route()?.greenWeight === 0.5 && taken.route()?.controller !== run1, 'run 2 on the second proxy');
  const holder = taken.route()?.controller;
  await silent.kill();

  const rollback = await runCli(['rollback'], { cwd: folderA, env: { ADMIN_TOKEN } });
  expect(rollback.code, rollback.stderr).toBe(0);
  expect(own.route()).toMatchObject({ greenWeight: 0, controller: run1, ended: true });
  expect(own.route()?.reason).toMatch(/^rollback: /);
  expect(rollback.stdout).toContain(`proxy ${own.adminUrl}: back on blue`);
  expect(rollback.stdout).toContain(`proxy ${taken.adminUrl}: left as it is: another rollout drives it now`);
  expect(rollback.stdout).toContain(`proxy ${silent.adminUrl}: unreachable: `);
  expect(rollback.stdout).toMatch(/its lease (runs|ran) out\b.* on its own/);
  // Run 2 renews its lease on: the rollback took nothing from it.
  const renewed = taken.route()?.updatedAt ?? 0;
  await until(() => (taken.route()?.updatedAt ?? 0) > renewed, "run 2's next renewal");
  expect(taken.route()).toMatchObject({ greenWeight: 0.5, controller: holder });
  expect(second.exitCode).toBeNull();
}, 120_000);
