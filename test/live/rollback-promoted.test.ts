// `bluegreen rollback` of a live rollout killed while it promoted: a proxy that took the promotion has no lease,
// so "it returns to blue when its lease runs out" is untrue for it. Found by hostile10: the rollout killed -9
// between the proxies' promotion and its own record of it, `bluegreen rollback` without the admin token said
// "marked rolled back; proxies not told ...; each returns to blue when its lease runs out" (exit 0), both proxies
// served green for good, and a second rollback said "already ended; nothing to roll back".
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { restoreBlue } from '../../src/cli/recover.js';
import { UsageError } from '../../src/core/exit.js';
import { LIVE_VIEW_FILE } from '../../src/live/live-file.js';
import { loadPlan } from '../../src/plan/load.js';
import { hookRecorder, orphanMessage, StateStore } from '../../src/state/index.js';
import { runCli, testContext } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { runProxy, type Running } from '../proxy/helpers.js';
import { isAlive } from '../helpers/processes.js';
import { deadPid, orphanHook, snapshot } from '../state/helpers.js';
import { ADMIN_TOKEN, liveFixture, proxyPlan, writeRolloutPlan } from './helpers.js';

const fixture = liveFixture();

/** A dead rollout's state folder, at its last stage (and past it when `lastPassed`), its proxies as it left them. */
async function deadRollout(proxies: Running[], options: { lastPassed: boolean }) {
  const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }', '{ duration: 1m, green_weight: 1 }'] }, proxies);
  const file = path.join(dir, 'plan.yaml');
  const plan = loadPlan(file, dir);
  const store = new StateStore(tempDir());
  const dead = snapshot({
    pid: await deadPid(),
    stageIndex: 1,
    greenWeight: 1,
    plan: {
      name: plan.name,
      file,
      hash: plan.source.hash,
      blueModel: 'gpt-4o',
      greenModel: 'gpt-4.1',
      stages: plan.stages.map((s) => ({ durationMs: s.duration, greenWeight: s.green_weight })),
    },
  });
  await store.writeState(dead);
  store.appendEvent({ at: 1, type: 'rollout_started', stage: 0, greenWeight: 0, message: 'started' });
  store.appendEvent({ at: 2, type: 'stage_started', stage: 1, greenWeight: 1, message: 'stage 2/2 started' });
  if (options.lastPassed) store.appendEvent({ at: 3, type: 'stage_passed', stage: 1, greenWeight: 1, message: 'stage 2/2 passed' });
  return { dir, store, dead };
}

function promote(running: Running): void {
  running.proxy.route.set({ greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted: all 2 stages passed' });
}

describe('bluegreen rollback of a live rollout that died while promoting', () => {
  it('without the admin token changes nothing (exit 2) and can be run again with it', async () => {
    const proxies = await fixture.startProxies(1);
    const [proxy] = proxies as [Running];
    const { dir, store, dead } = await deadRollout(proxies, { lastPassed: true });
    promote(proxy);
    // A hook of the dead run still running: the refusal leaves it (and the journal) alone too. It used to be stopped first.
    const hook = await orphanHook(store.dir, 'echo ready; exec sleep 600', { plan: dead.plan.name, pid: dead.pid });
    const journal = store.readEvents().length;
    const without = restoreBlue({ store, snapshot: dead, ctx: testContext({ cwd: dir }), actor: 'ops' });
    await expect(without).rejects.toThrow(UsageError);
    await expect(without).rejects.toThrow(/cannot tell the rollout's proxies to serve blue: proxy\.admin\.token_env names ADMIN_TOKEN, which is not set/);
    expect(store.readState()?.phase).toBe('progressing');
    expect(proxy.proxy.route.effective().greenWeight).toBe(1);
    expect(isAlive(hook)).toBe(true);
    expect(store.readEvents()).toHaveLength(journal);

    const result = await restoreBlue({ store, snapshot: dead, ctx: testContext({ cwd: dir, env: { ADMIN_TOKEN } }), actor: 'ops' });
    expect(result.ok, result.message).toBe(true);
    expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(store.readState()?.phase).toBe('rolled_back');
    expect(isAlive(hook)).toBe(false);
  });

  it('`bluegreen rollback` without the admin token refuses in one message, never saying it rolls back (exit 2)', async () => {
    const proxies = await fixture.startProxies(1);
    const [proxy] = proxies as [Running];
    const { dir, store } = await deadRollout(proxies, { lastPassed: true });
    promote(proxy);
    const run = await runCli(['rollback', '--state-dir', store.dir], { cwd: dir, env: {} });
    expect(run.code).toBe(2);
    // Before: "...; rolling back" first, then the refusal saying nothing was changed.
    expect(run.stderr).not.toContain('rolling back');
    expect(run.stderr.trim().split('\n')).toEqual([
      "bluegreen: cannot tell the rollout's proxies to serve blue: proxy.admin.token_env names ADMIN_TOKEN, which is not set (or empty): set it to the proxies' admin token (export ADMIN_TOKEN=..., as the proxies were started with); nothing was changed",
    ]);
    expect(store.readState()?.phase).toBe('progressing');
    expect(proxy.proxy.route.effective().greenWeight).toBe(1);
    const again = await runCli(['rollback', '--state-dir', store.dir], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('; rolling back');
  });

  it('with a proxy that does not answer, stays unfinished (it may hold the promotion) and journals hook_failed', async () => {
    const proxies = await fixture.startProxies(2);
    const [told, silent] = proxies as [Running, Running];
    const { dir, store, dead } = await deadRollout(proxies, { lastPassed: true });
    promote(told);
    // The dead run's record of its promotion under way (hook.json), as the rollout writes it.
    hookRecorder(store.dir, { plan: dead.plan.name, event: 'promote', stage: 2, greenWeight: 1, pid: dead.pid, by: 'proxies' }).begin();
    await silent.close();
    const result = await restoreBlue({ store, snapshot: dead, ctx: testContext({ cwd: dir, env: { ADMIN_TOKEN } }), actor: 'ops' });
    expect(result.ok).toBe(false);
    // loose18: the recovery had removed that record before it ran, so status no longer said the promotion was under way.
    expect(orphanMessage(dead, store.dir)).toContain('with green at 100% (its promotion of the proxies was under way when it died)');
    expect(result.message).toContain(`proxy ${silent.proxy.adminUrl as string}: unreachable`);
    expect(result.message).toContain('it may serve green until told, so check its route by hand');
    expect(result.message).toContain('the rollout is still marked unfinished');
    expect(told.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(store.readState()?.phase).toBe('progressing');
    const journal = store.readEvents().slice(-2);
    expect(journal.map((event) => event.type)).toEqual(['hook_succeeded', 'hook_failed']);
  });

  it('mid-stage (no promotion begun), a proxy that does not answer is on blue by its lease: marked rolled back, journaled hook_failed', async () => {
    const proxies = await fixture.startProxies(1);
    const [silent] = proxies as [Running];
    const { dir, store, dead } = await deadRollout(proxies, { lastPassed: false });
    await silent.close();
    const result = await restoreBlue({ store, snapshot: dead, ctx: testContext({ cwd: dir, env: { ADMIN_TOKEN } }), actor: 'ops' });
    expect(result.ok, result.message).toBe(true);
    expect(result.message).toContain('its lease runs out and it returns to blue on its own');
    expect(store.readState()?.phase).toBe('rolled_back');
    expect(store.readEvents().find((event) => event.message.includes(silent.proxy.adminUrl as string))?.type).toBe('hook_failed');
  });

  // Before: "it returns to blue when its lease runs out", with no time, though the dead run's live.json holds its
  // last lease and the recovery may come long after it ran out. Said as the rollout's own ending says it.
  it.each([
    [
      'still runs',
      -1,
      "runs out at 2023-11-14T22:13:25.000Z by the dead rollout's last record of it (a renewal it sent after that holds it longer) and it returns to blue on its own",
    ],
    [
      'has run out',
      60_000,
      "ran out at 2023-11-14T22:13:25.000Z by the dead rollout's last record of it (a renewal it sent after that holds it longer): it serves blue on its own",
    ],
  ])('a proxy that does not answer: its last lease from live.json, and whether it %s', async (_, after, said) => {
    const proxies = await fixture.startProxies(1);
    const [silent] = proxies as [Running];
    const { dir, store, dead } = await deadRollout(proxies, { lastPassed: false });
    const lease = 1_700_000_005_000;
    const live = {
      updatedAt: dead.updatedAt,
      leaseMs: 5000,
      stages: [],
      proxies: [{ url: `${silent.proxy.adminUrl as string}/`, reachable: true, greenWeight: 1, mirror: 0, leaseExpiresAt: lease }],
    };
    writeFileSync(path.join(store.dir, LIVE_VIEW_FILE), JSON.stringify(live));
    await silent.close();
    const ctx = testContext({ cwd: dir, env: { ADMIN_TOKEN } });
    const result = await restoreBlue({ store, snapshot: dead, ctx, actor: 'ops', now: () => lease + after });
    expect(result.ok, result.message).toBe(true);
    expect(result.message).toContain(`proxy ${silent.proxy.adminUrl as string}: unreachable`);
    expect(result.message).toContain(`its lease ${said}`);
  });

  // Found by hostile13: a wrong token said "it returns to blue when its lease runs out" and exited 0, marked rolled
  // back, where an unset one exits 2. The proxy answered (401): nothing about its lease was learnt.
  // live32: the refusal came only after the dead run's hook left running had been stopped (and journaled); each
  // proxy is now asked once (GET /admin/route) before anything is done, as an unset token is checked.
  it('with a wrong admin token exits 2, names the variable (never the token), changes nothing and stays unfinished', async () => {
    const proxies = await fixture.startProxies(1);
    const [proxy] = proxies as [Running];
    const { dir, store, dead } = await deadRollout(proxies, { lastPassed: false });
    proxy.proxy.route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: Date.now() + 60_000, reason: 'stage 2/2 of live-test' });
    const hook = await orphanHook(store.dir, 'echo ready; exec sleep 600', { plan: dead.plan.name, pid: dead.pid });
    const journal = store.readEvents().length;
    const wrong = 'not-the-admin-token-987';
    const run = await runCli(['rollback', '--state-dir', store.dir], { cwd: dir, env: { ADMIN_TOKEN: wrong } });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      `bluegreen: cannot tell the rollout's proxies to serve blue: proxy ${proxy.proxy.adminUrl as string} refused the admin token in ADMIN_TOKEN (401): ` +
        'set ADMIN_TOKEN to the admin token the proxies were started with and run bluegreen rollback again; nothing was changed',
    ]);
    expect(`${run.stdout}${run.stderr}${JSON.stringify(store.readEvents())}`).not.toContain(wrong);
    expect(store.readState()?.phase).toBe('progressing');
    expect(proxy.proxy.route.effective().greenWeight).toBe(0.5);
    expect(isAlive(hook)).toBe(true);
    expect(store.readEvents()).toHaveLength(journal);

    const again = await runCli(['rollback', '--state-dir', store.dir], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(again.code, again.stderr).toBe(0);
    expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(store.readState()?.phase).toBe('rolled_back');
    expect(isAlive(hook)).toBe(false);
  });

  it('with a token one proxy refuses, tells none of them blue; one that does not answer does not stop the rollback', async () => {
    const [taking, silent] = (await fixture.startProxies(2)) as [Running, Running];
    const refusing = await runProxy(proxyPlan(), { env: { ADMIN_TOKEN: 'another-token-for-this-proxy' } });
    onTestFinished(() => refusing.close());
    const { dir, store, dead } = await deadRollout([taking, refusing, silent], { lastPassed: false });
    for (const proxy of [taking, refusing]) proxy.proxy.route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: Date.now() + 60_000, reason: 'stage 2/2' });
    await silent.close();
    const journal = store.readEvents().length;
    const refused = restoreBlue({ store, snapshot: dead, ctx: testContext({ cwd: dir, env: { ADMIN_TOKEN } }), actor: 'ops' });
    await expect(refused).rejects.toThrow(UsageError);
    await expect(refused).rejects.toThrow(
      `cannot tell 1 of the rollout's 3 proxies to serve blue: proxy ${refusing.proxy.adminUrl as string} refused the admin token in ADMIN_TOKEN (401): ` +
        'set ADMIN_TOKEN to the admin token the proxies were started with and run bluegreen rollback again; nothing was changed',
    );
    // Before: the proxy that took the token was put on blue first, and the rollback then refused.
    expect(taking.proxy.route.effective().greenWeight).toBe(0.5);
    expect(store.readEvents()).toHaveLength(journal);
    expect(store.readState()?.phase).toBe('progressing');

    // The silent proxy alone (the refusing one gone too): no refusal, it is left to its lease.
    await refusing.close();
    const result = await restoreBlue({ store, snapshot: dead, ctx: testContext({ cwd: dir, env: { ADMIN_TOKEN } }), actor: 'ops' });
    expect(result.ok, result.message).toBe(true);
    expect(taking.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(store.readState()?.phase).toBe('rolled_back');
  });
});
