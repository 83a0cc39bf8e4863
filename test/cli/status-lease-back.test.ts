// status after a live rollout was killed -9: when the folder's proxy, the only one the run drove, still runs and its
// route file (read now) says its lease put it back on blue, the advice says so rather than "traffic may not be on
// blue", which contradicted the proxy's own line in the same output. Anything less known keeps the cautious words.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';
import { LEASE_EXPIRED, ROUTE_FILE, type Route } from '../../src/proxy/route.js';

const STARTED = 1_700_000_000_000;
const ADMIN = 'http://127.0.0.1:8789';
const LEASE_GONE: Route = { greenWeight: 0, mirror: 0, reason: LEASE_EXPIRED, updatedAt: STARTED + 16_000 };
const ON_GREEN: Route = { greenWeight: 0.1, mirror: 0, leaseExpiresAt: STARTED + 60_000, reason: 'stage 1', updatedAt: STARTED + 10_000 };

async function folder(options: { route: Route; proxyPid: number; driven: string[] }): Promise<string> {
  const cwd = tempDir();
  const dir = path.join(cwd, 'st');
  mkdirSync(dir);
  const state = {
    ...snapshot({ pid: await deadPid(), startedAt: STARTED, updatedAt: STARTED + 10_000 }),
    liveResume: { controllers: ['c1'], read: {}, proxies: options.driven },
  };
  writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state));
  const proxy = { url: 'http://127.0.0.1:8788', reachable: true, greenWeight: 0.1, mirror: 0, leaseExpiresAt: STARTED + 15_000 };
  writeFileSync(path.join(dir, 'live.json'), JSON.stringify({ updatedAt: STARTED + 10_000, leaseMs: 5000, proxies: [{ ...proxy, url: ADMIN }], stages: [] }));
  writeFileSync(path.join(dir, ROUTE_FILE), JSON.stringify(options.route));
  writeFileSync(
    path.join(dir, 'proxy.json'),
    JSON.stringify({ pid: options.proxyPid, url: 'http://127.0.0.1:8788', adminUrl: ADMIN, startedAt: STARTED - 1000 }),
  );
  return cwd;
}

const clock = () => new FakeClock(STARTED + 20_000);
const CAUTIOUS = 'traffic may not be on blue: run bluegreen rollback --state-dir';

describe('status of a dead live rollout whose proxy is back on blue by its lease', () => {
  it('says the proxies are back on blue (read now), still advising the rollback, exit 5', async () => {
    const cwd = await folder({ route: LEASE_GONE, proxyPid: process.pid, driven: [`${ADMIN}/`] });
    const { stdout, stderr, code } = await runCli(['status', '--state-dir', 'st'], { cwd, clock: clock() });
    expect(code).toBe(5);
    expect(stdout).toContain(LEASE_EXPIRED);
    expect(stderr).toContain('died without finishing');
    expect(stderr).toContain('the proxies are back on blue by their lease (read now); run bluegreen rollback --state-dir');
    expect(stderr).toContain('to record the end and run on_rollback');
    expect(stderr).not.toContain(CAUTIOUS);
  });

  it('keeps the cautious words when the proxy is not running, the run drove another proxy, or the route is on green', async () => {
    const cases = [
      await folder({ route: LEASE_GONE, proxyPid: await deadPid(), driven: [ADMIN] }),
      await folder({ route: LEASE_GONE, proxyPid: process.pid, driven: [ADMIN, 'http://10.0.0.2:8789'] }),
      await folder({ route: ON_GREEN, proxyPid: process.pid, driven: [ADMIN] }),
      await folder({ route: LEASE_GONE, proxyPid: process.pid, driven: [] }),
    ];
    for (const cwd of cases) {
      const { stderr, code } = await runCli(['status', '--state-dir', 'st'], { cwd, clock: clock() });
      expect(code).toBe(5);
      expect(stderr).toContain(CAUTIOUS);
      expect(stderr).not.toContain('back on blue by their lease');
    }
  });
  it('pause on it (exit 5) says the same, where it said "traffic may not be on blue"', async () => {
    const cwd = await folder({ route: LEASE_GONE, proxyPid: process.pid, driven: [ADMIN] });
    const { stderr, code } = await runCli(['pause', '--state-dir', 'st'], { cwd, clock: clock() });
    expect(code).toBe(5);
    expect(stderr).toContain('the proxies are back on blue by their lease (read now); run bluegreen rollback --state-dir');
    expect(stderr).not.toContain(CAUTIOUS);
    const onGreen = await folder({ route: ON_GREEN, proxyPid: process.pid, driven: [ADMIN] });
    expect((await runCli(['pause', '--state-dir', 'st'], { cwd: onGreen, clock: clock() })).stderr).toContain(CAUTIOUS);
  });
  it('says the same under --watch (lines and --json), which kept the cautious words without reading the lease', async () => {
    // Found by edges31: `status --watch` on the same dead run said "traffic may not be on blue" where `status` said
    // the proxies are back on blue by their lease.
    const cwd = await folder({ route: LEASE_GONE, proxyPid: process.pid, driven: [ADMIN] });
    for (const extra of [[], ['--json']]) {
      const { stderr, code } = await runCli(['status', '--watch', ...extra, '--state-dir', 'st'], { cwd, clock: clock() });
      expect(code).toBe(5);
      expect(stderr).toContain('the proxies are back on blue by their lease (read now); run bluegreen rollback --state-dir');
      expect(stderr).not.toContain(CAUTIOUS);
    }
    const onGreen = await folder({ route: ON_GREEN, proxyPid: process.pid, driven: [ADMIN] });
    const { stderr } = await runCli(['status', '--watch', '--state-dir', 'st'], { cwd: onGreen, clock: clock() });
    expect(stderr).toContain(CAUTIOUS);
  });
});
