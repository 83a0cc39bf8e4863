// What an operator is told about a proxy beyond where it listens: at startup, the route it starts on when that is
// not plain blue (a stage's route restored within its lease) and that no rollout can move it without an admin API
// (the plan's warning says so to `validate` and `rollout` too); and `status` on a folder with a proxy but no rollout.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProxy as runProxyCommand } from '../../src/cli/commands/proxy.js';
import { ROUTE_FILE, routeOwner } from '../../src/proxy/route.js';
import { planWarnings } from '../../src/plan/warnings.js';
import { runCli, testContext } from '../helpers/cli.js';
import { planFromYaml, tempDir, writePlan } from '../helpers/plans.js';
import { runProxy, simPlan } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789';

/** Runs `bluegreen proxy` on the plan until it is listening, then stops it; its stderr. */
async function startupLines(yaml: string, stateDir: string): Promise<string> {
  const file = writePlan(yaml, stateDir);
  const ctx = testContext({ cwd: stateDir, env: { ADMIN_TOKEN } });
  const stop = new AbortController();
  const code = await runProxyCommand(
    file,
    { listen: '127.0.0.1:0', adminListen: yaml.includes('admin') ? '127.0.0.1:0' : undefined, stateDir },
    ctx,
    stop.signal,
    () => stop.abort(130),
  );
  expect(code).toBe(130);
  // Where it listens comes last, after every notice: what a script (and test/live's ProxyProcess) waits for.
  expect(ctx.err().trimEnd().split('\n').at(-1)).toMatch(/^bluegreen proxy: listening on http:\/\/127\.0\.0\.1:\d+: point the application's base URL at/);
  return ctx.err();
}

describe('bluegreen proxy at startup', () => {
  it('says it resumes a stage route saved within its lease, and how long the lease has left', async () => {
    const dir = tempDir();
    const route = {
      greenWeight: 0.25,
      mirror: 0,
      // Within the 10 min a saved lease may run from a restart (MAX_LEASE_MS).
      leaseExpiresAt: Date.now() + 300_000,
      reason: 'stage 2/4 of proxy-test',
      updatedAt: Date.now(),
      rollout: routeOwner('proxy-test', 'gpt-4o', 'gpt-4.1'),
    };
    writeFileSync(path.join(dir, ROUTE_FILE), JSON.stringify(route));
    const err = await startupLines(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), dir);
    expect(err).toMatch(
      /resuming the route saved in the state folder: green 25%, mirror 0% \(stage 2\/4 of proxy-test\); its lease runs out in (5m00s|4m[0-5]\ds) \(then blue, unless a rollout renews it\)/,
    );
    expect(err).not.toContain('no admin API');
  });

  it('says nothing of a route when it starts on blue with an admin API', async () => {
    const err = await startupLines(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), tempDir());
    expect(err).toContain('listening on');
    expect(err).not.toContain('resuming');
    expect(err).not.toContain('no admin API');
  });

  it('without proxy.admin, says that no rollout can move it', async () => {
    const err = await startupLines(simPlan({ proxy: '{}' }), tempDir());
    expect(err).toContain("no admin API (the plan has no proxy.admin): no rollout can move this proxy's traffic; it serves blue");
  });
});

describe('the plan warning for a proxy block without admin', () => {
  it('is given without admin only', () => {
    const without = planWarnings(planFromYaml(simPlan({ proxy: '{}' })));
    expect(without.filter((warning) => warning.keyPath === 'proxy').map((warning) => warning.message)).toEqual([
      expect.stringContaining('has no admin: `bluegreen rollout` cannot move the traffic of a proxy serving this plan'),
    ]);
    expect(planWarnings(planFromYaml(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }))).map((warning) => warning.keyPath)).not.toContain('proxy');
    expect(planWarnings(planFromYaml(simPlan())).map((warning) => warning.keyPath)).not.toContain('proxy');
  });
});

describe('bluegreen status on a folder where only a proxy runs', () => {
  it('says no rollout has run there yet, and where the proxy is', async () => {
    const dir = tempDir();
    const running = await runProxy(simPlan({ proxy: '{}' }), { stateDir: dir });
    const status = await runCli(['status', '--state-dir', dir], { cwd: dir });
    expect(status.code).toBe(2);
    expect(status.stderr).toContain(
      `no rollout state in ${dir} (start one with: bluegreen rollout PLAN); a proxy is running on this folder: ${running.proxy.url} (pid ${process.pid}`,
    );
    expect(status.stderr).toContain(`its route at ${running.proxy.url}/healthz`);
    await running.close();
    // Stopped, it removed proxy.json: the plain message again.
    expect((await runCli(['status', '--state-dir', dir], { cwd: dir })).stderr).not.toContain('a proxy is running');
  });
});
