// `bluegreen rollout` driving real proxies: the application (the official openai client) sees the split move,
// never sees green's failures with fallback, sees only blue in a shadow stage; figures of two proxies are summed.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { runCli } from '../helpers/cli.js';
import { listenForTest } from '../helpers/loopback.js';
import { tempDir } from '../helpers/plans.js';
import { runProxy, type Running } from '../proxy/helpers.js';
import { ADMIN_TOKEN, liveFixture, promoteWhen, proxyPlan, proxyPorts, writeRolloutPlan } from './helpers.js';
import { until } from '../helpers/until.js';

const fixture = liveFixture();

function stateOf(dir: string): RolloutSnapshot {
  return JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
}

function liveViewOf(dir: string): {
  proxies: { url: string; greenWeight: number; promotedArm?: string }[];
  stages: { stage: number; arms: { blue: { requests: number }; green: { requests: number; failures: number } }; fallbacks: number; mirrors: number }[];
} {
  return JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'live.json'), 'utf8')) as never;
}

describe('live rollout', () => {
  it('moves the live split stage by stage and promotes: the proxies serve green after', async () => {
    const proxies = await fixture.startProxies(1);
    const app = fixture.application(proxies);
    const dir = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 0.5 }', '{ duration: 1s, green_weight: 1 }'] }, proxies);
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(0);
    const state = stateOf(dir);
    // The engine judged what the proxy served: both arms have live requests in stage 1, green all of stage 2.
    expect(state.stages[0]?.arms.green.requests).toBeGreaterThan(0);
    expect(state.stages[0]?.arms.blue.requests).toBeGreaterThan(0);
    expect(state.stages[1]?.arms.green.requests).toBeGreaterThan(0);
    const proxy = proxies[0] as Running;
    expect(proxy.proxy.route.stored.promotedArm).toBe('green');
    const greenBefore = app.arms.green;
    const total = app.total;
    await until(() => app.total > total + 10, 'more application requests');
    // Promoted: every new request is answered by green, with no lease.
    expect(app.arms.green - greenBefore).toBe(app.total - total);
    expect(app.failures).toBe(0);
    expect(result.stderr + result.stdout).not.toContain(ADMIN_TOKEN);
    const live = liveViewOf(dir);
    expect(live.proxies[0]).toMatchObject({ greenWeight: 1, promotedArm: 'green' });
    expect(live.stages[0]?.arms.green.requests).toBe(state.stages[0]?.arms.green.requests);
    // status shows the live section apart: each proxy's route and health, live and generated per stage.
    const status = await runCli(['status'], { cwd: dir });
    // Read from live.json: its age (the stage table's figures are state.json's, saved at another time).
    expect(status.stdout).toMatch(/live traffic \(1 proxy, lease 5s, read \S+ ago\):/);
    expect(status.stdout).toMatch(/answered \S+ ago {2}\S+ {2}promoted green, no lease/);
    expect(status.stdout).toMatch(/stage +blue\+fb +green +green err +fallbacks +mirrors\n/);
  });

  it('rolls a failing green back; with fallback the application sees no failed request', async () => {
    const proxies = await fixture.startProxies(1, { green: 'error_rate: 1' });
    const app = fixture.application(proxies);
    const dir = writeRolloutPlan({ green: 'error_rate: 1', stages: ['{ duration: 20s, green_weight: 0.5 }', '{ duration: 20s, green_weight: 1 }'] }, proxies);
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(10);
    const proxy = proxies[0] as Running;
    expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    expect(proxy.proxy.route.stored.reason).toMatch(/^rollback/);
    await app.stop();
    expect(app.failures).toBe(0);
    expect(app.fallbacks).toBeGreaterThan(0);
    expect(stateOf(dir).stages[0]?.arms.green.failures).toBeGreaterThan(0);
    const live = liveViewOf(dir);
    expect(live.stages[0]?.fallbacks).toBeGreaterThan(0);
  });

  it('judges green in a shadow stage (weight 0, mirror 1) while the application sees only blue', async () => {
    const proxies = await fixture.startProxies(1, { green: 'error_rate: 1' });
    const app = fixture.application(proxies);
    const dir = writeRolloutPlan({ green: 'error_rate: 1', stages: ['{ duration: 20s, green_weight: 0, mirror: 1 }'] }, proxies);
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(10);
    await app.stop();
    expect(app.arms.green).toBe(0);
    expect(app.failures).toBe(0);
    expect(app.arms.blue).toBeGreaterThan(0);
    const live = liveViewOf(dir);
    expect(live.stages[0]?.mirrors).toBeGreaterThan(0);
    expect(live.stages[0]?.arms.green.failures).toBeGreaterThan(0);
  });

  it('drives two proxies and sums their figures', async () => {
    const proxies = await fixture.startProxies(2);
    const apps = proxies.map((proxy) => fixture.application([proxy]));
    // A stage longer than the test, promoted once each proxy has served green: a 1 s stage served 7 requests a proxy at
    // load 20 (none green, now and then), when the rollout's start took most of it.
    const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0.5 }'] }, proxies);
    const run = runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    await promoteWhen(dir, run, () => apps.every((app) => app.arms.green > 0), 'green answers from each proxy');
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    const state = stateOf(dir);
    // Every result each proxy served in the stage, summed, is what the engine judged, within the requests in
    // flight at either end (at most one per application loop: 2 per proxy). A request counts in the stage it
    // started in: one still running at the promotion ends after the rollout's last read; one started before the
    // rollout's first route carries no stage, and the rollout counts it in the stage in force.
    type Page = { results: { stage?: number; result: { arm: string } }[] };
    const pages = await Promise.all(
      proxies.map(
        async (p) =>
          (await (await fetch(`${p.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as Page,
      ),
    );
    const inStage = pages.map((page) => page.results.filter((entry) => entry.stage === 0));
    for (const entries of inStage) expect(entries.filter((entry) => entry.result.arm === 'green').length).toBeGreaterThan(0);
    const summed = inStage.reduce((sum, entries) => sum + entries.length, 0);
    const judged = (state.stages[0]?.arms.green.requests ?? 0) + (state.stages[0]?.arms.blue.requests ?? 0);
    expect(Math.abs(judged - summed)).toBeLessThanOrEqual(2 * proxies.length);
    expect(judged).toBeGreaterThan(0);
    for (const p of proxies) expect(p.proxy.route.stored.promotedArm).toBe('green');
  });

  it('needs no upstream key: the keys stay with the proxies', async () => {
    const proxies = await fixture.startProxies(1);
    fixture.application(proxies);
    // The rollout's plan names an upstream it cannot reach and a key variable that is not set.
    const upstream = 'upstream: { base_url: "http://127.0.0.1:9/v1", api: openai, api_key_env: UPSTREAM_KEY_NOT_SET }';
    const dir = writeRolloutPlan({ upstream, stages: ['{ duration: 500ms, green_weight: 0.5 }'] }, proxies);
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(0);
    expect(stateOf(dir).stages[0]?.arms.green.requests).toBeGreaterThan(0);
  });

  it('starts no simulator of its own when it sends nothing upstream (the port its plan names stays free)', async () => {
    const proxies = await fixture.startProxies(1);
    fixture.application(proxies);
    // Something else holds the port the rollout's simulate block names: a rollout starting a simulator would fail.
    const holder = createServer();
    await listenForTest(holder);
    const { port } = holder.address() as AddressInfo;
    const upstream = `upstream: { api: openai, simulate: { port: ${port}, models: { gpt-4o: { latency: { p50: 3ms, p95: 6ms } }, gpt-4.1: { latency: { p50: 3ms, p95: 6ms } } } } }`;
    const dir = writeRolloutPlan({ upstream, stages: ['{ duration: 500ms, green_weight: 0.5 }'] }, proxies);
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(0);
    expect(stateOf(dir).stages[0]?.arms.green.requests).toBeGreaterThan(0);
    // The same plan with generated traffic on top does need its simulator, and says why it cannot start it.
    const generated = writeRolloutPlan({ upstream, controller: 'generated_traffic: true', stages: ['{ duration: 500ms, green_weight: 0.5 }'] }, proxies);
    const refused = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: generated, env: { ADMIN_TOKEN } });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(String(port));
  });

  it('refuses to start with a wrong admin token (exit 3), never printing a token', async () => {
    const proxies = await fixture.startProxies(1);
    const dir = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 0.5 }'] }, proxies);
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN: 'wrong-token-abcdef' } });
    expect(result.code).toBe(3);
    // It answered: "did not answer" would send the operator looking for a network problem.
    expect(result.stderr).toContain(
      `preflight: 1 of 1 proxies refused the admin token: ${(proxies[0] as Running).proxy.adminUrl as string} refused the admin token in ADMIN_TOKEN (401) (set ADMIN_TOKEN to the token the proxies were started with)`,
    );
    expect(result.stderr).not.toContain('did not answer');
    expect(result.stderr).not.toContain('wrong-token-abcdef');
    expect((proxies[0] as Running).proxy.route.effective().greenWeight).toBe(0);
  });

  // Session 13's leftover: the proxy's plan decides fallback, and a rollout whose plan promises it drove a proxy
  // without it, green's failures reaching the application. The other way round only shields users more.
  it('refuses (exit 3) a proxy serving without the fallback its plan promises, and moves nothing; the reverse goes', async () => {
    const [bare] = (await fixture.startProxies(1, { fallback: false })) as [Running];
    const dir = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 0.5 }'], fallback: true }, [bare]);
    const refused = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain(
      `preflight: ${bare.proxy.adminUrl as string} serves without fallback to blue (the proxy's plan has proxy.fallback: false), but this plan's proxy.fallback is true: green's failures would reach the application`,
    );
    expect(bare.proxy.route.stored).toMatchObject({ greenWeight: 0, mirror: 0 });
    const dry = await runCli(['rollout', 'plan.yaml', '--dry-run', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(dry.code).toBe(3);

    const [shielding] = (await fixture.startProxies(1, { fallback: true })) as [Running];
    const other = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 0.5 }'], fallback: false }, [shielding]);
    const goes = await runCli(['rollout', 'plan.yaml', '--dry-run', '--ci'], { cwd: other, env: { ADMIN_TOKEN } });
    expect(goes.code, goes.stderr).toBe(0);
  });

  it('refuses (exit 3) to drive a proxy of another plan or other models, and moves nothing', async () => {
    const proxies = await fixture.startProxies(1);
    const dir = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 1 }'] }, proxies);
    // The same admin URL and token, another plan: a rollout of it would judge and promote the proxy's green.
    const file = path.join(dir, 'plan.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: live-test', 'name: another-plan'));
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code).toBe(3);
    const adminUrl = (proxies[0] as Running).proxy.adminUrl as string;
    expect(result.stderr).toContain(`not this plan's proxies (another-plan (gpt-4o -> gpt-4.1)): ${adminUrl} serves live-test (gpt-4o -> gpt-4.1)`);
    expect((proxies[0] as Running).proxy.route.stored).toMatchObject({ greenWeight: 0, mirror: 0 });
    expect((proxies[0] as Running).proxy.route.stored.promotedArm).toBeUndefined();
  });

  it('refuses (exit 3) one proxy listed twice (127.0.0.1 and localhost): its results would count twice', async () => {
    const [proxy] = (await fixture.startProxies(1)) as [Running];
    const adminUrl = proxy.proxy.adminUrl as string;
    const alias = adminUrl.replace('127.0.0.1', 'localhost');
    const dir = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 0.5 }'] }, [adminUrl, alias]);
    const said = `preflight: one proxy is listed more than once (${adminUrl} and ${alias} answer from the same proxy process)`;
    const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain(said);
    expect(proxy.proxy.route.stored).toMatchObject({ greenWeight: 0, mirror: 0 });
    const dry = await runCli(['rollout', 'plan.yaml', '--dry-run', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    expect(dry.code, dry.stderr).toBe(3);
    expect(dry.stderr).toContain(said);
  });

  it('says what is missing when no proxy is found in the state folder', async () => {
    const dir = tempDir();
    const plan = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 0.5 }'] }, []);
    const result = await runCli(['rollout', path.join(plan, 'plan.yaml'), '--ci', '--state-dir', dir], { cwd: plan, env: { ADMIN_TOKEN } });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `no proxy to drive: no bluegreen proxy was started on the state folder ${dir} (no proxy.json, which a proxy writes there); start \`bluegreen proxy PLAN --state-dir ${dir}\` first (the rollout's --state-dir), or list proxy.controller.admin_urls`,
    );
    // A proxy there without an admin API (its plan has no proxy.admin) is named, not taken for none.
    writeFileSync(path.join(dir, 'proxy.json'), JSON.stringify({ pid: 4242, url: 'http://127.0.0.1:8787', startedAt: 1 }));
    const bare = await runCli(['rollout', path.join(plan, 'plan.yaml'), '--ci', '--state-dir', dir], { cwd: plan, env: { ADMIN_TOKEN } });
    expect(bare.code).toBe(3);
    expect(bare.stderr).toContain(
      `no proxy to drive: the proxy on the state folder ${dir} (pid 4242, http://127.0.0.1:8787) has no admin API (its plan has no proxy.admin): restart it on this plan`,
    );
  });
});

describe('a proxy restarted on another plan while a rollout drives it', () => {
  it("refuses the rollout's routes (409) and serves blue; the rollout rolls back at its next renewal, not at the stage's end", async () => {
    // Both ports fixed and taken together: the restarted proxy's listen port, left to the system, could have been the
    // admin port the first one had just released.
    const { listen, admin } = await proxyPorts();
    const addresses = { listen: `127.0.0.1:${listen}`, adminListen: `127.0.0.1:${admin}` };
    const first = await runProxy(proxyPlan(), { env: { ADMIN_TOKEN }, ...addresses });
    // A stage far longer than the test: only the refusal can end it, at the next renewal (every 2 s). A 6 s lease:
    // admin calls time out at a third of it (2 s at most), and a 3 s lease's 1 s timed out on a stall of a loaded
    // machine (this process answers them), rolling back on proxy_unreachable instead.
    const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0.5 }'], controller: 'lease: 6s' }, [first]);
    const run = runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    await until(() => first.proxy.route.effective().greenWeight === 0.5, 'stage 1 on the proxy');
    await first.close();
    const other = await runProxy(proxyPlan().replace('name: live-test', 'name: other-plan'), { env: { ADMIN_TOKEN }, ...addresses });
    const result = await run;
    expect(result.code, result.stderr).toBe(10);
    expect(result.stderr).toContain('answered 409: this proxy serves other-plan (gpt-4o -> gpt-4.1), not live-test (gpt-4o -> gpt-4.1)');
    expect(stateOf(dir).breach?.rule).toBe('hook');
    expect(other.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  });
});

describe("an operator's route set by hand while a rollout drives the proxy", () => {
  it('is never overridden by the rollout: its next renewal is refused and it rolls back (exit 10), the proxy staying on blue', async () => {
    const proxies = await fixture.startProxies(1);
    const running = proxies[0] as Running;
    // 6 s: its admin calls' timeout is 2 s (a third of it), not a 3 s lease's 1 s, which a stall of this process outlasted.
    const dir = writeRolloutPlan({ stages: ['{ duration: 5m, green_weight: 0.5 }'], controller: 'lease: 6s' }, proxies);
    const run = runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
    await until(() => running.proxy.route.effective().greenWeight === 0.5, 'stage 1 on the proxy');
    // docs/proxy.md: "back on blue at once". The rollout's renewals (every 2 s) used to undo it.
    const byHand = await fetch(`${running.proxy.adminUrl as string}/admin/route`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ greenWeight: 0, mirror: 0, reason: 'operator: emergency stop' }),
    });
    expect(byHand.status).toBe(200);
    const result = await run;
    expect(result.code, result.stderr).toBe(10);
    expect(result.stderr).toContain('the route was changed since this rollout set it: green 0%, mirror 0% (operator: emergency stop)');
    expect(stateOf(dir).breach?.rule).toBe('hook');
    expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  });
});
