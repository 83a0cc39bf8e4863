// The route: lease applied on every read, persisted, a promotion kept across restarts.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileLimitNotice, isLoopback, openFileLimit, parseListen, reachableUrl, splitKeys } from '../../src/proxy/config.js';
import { describeRoute, ROUTE_FILE, routeOwner } from '../../src/proxy/route.js';
import { RouteHolder } from '../../src/proxy/route-holder.js';
import { tempDir } from '../helpers/plans.js';

/** A route in memory whose lease checks the test runs itself, on a clock it sets. */
function scheduledRoute() {
  const clock = { now: 0 };
  const timers: { at: number; run: () => void }[] = [];
  const route = new RouteHolder({
    clock: { now: () => clock.now },
    schedule: (ms, check) => {
      const timer = { at: clock.now + ms, run: check };
      timers.push(timer);
      return () => timers.splice(timers.indexOf(timer), 1);
    },
  });
  return { clock, timers, route };
}

describe('RouteHolder', () => {
  it('serves blue once the lease runs out, says why, and saves it', async () => {
    let now = 1000;
    const notices: string[] = [];
    const dir = tempDir();
    const route = new RouteHolder({ stateDir: dir, clock: { now: () => now }, onNotice: (m) => notices.push(m) });
    expect(route.effective()).toMatchObject({ greenWeight: 0, mirror: 0 });
    route.set({ greenWeight: 0.25, mirror: 0.5, leaseExpiresAt: 6000 });
    expect(route.effective()).toMatchObject({ greenWeight: 0.25, mirror: 0.5 });
    now = 5999;
    expect(route.effective().greenWeight).toBe(0.25);
    now = 6000;
    expect(route.effective()).toMatchObject({ greenWeight: 0, mirror: 0 });
    expect(notices.join()).toContain('lease expired');
    await route.flush();
    expect(JSON.parse(readFileSync(path.join(dir, ROUTE_FILE), 'utf8'))).toMatchObject({ greenWeight: 0, reason: 'lease expired: back on blue' });
  });

  it('returns to blue on its own when the lease runs out, with no request to notice it', () => {
    const { clock, timers, route } = scheduledRoute();
    route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: 1000 });
    route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: 2000 });
    // A renewal replaces the pending check.
    expect(timers.map((t) => t.at)).toEqual([2001]);
    clock.now = 2001;
    timers.shift()?.run();
    expect(route.stored).toMatchObject({ greenWeight: 0, mirror: 0, reason: 'lease expired: back on blue' });
    expect(timers).toHaveLength(0);
  });

  it('checks again when its timer fires before the wall clock reaches the lease (a clock slewed or set back)', () => {
    const { clock, timers, route } = scheduledRoute();
    route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: 1000 });
    // The timer counts 1001 ms, but the wall clock says only 998 have passed (NTP slews it up to 0.05%).
    clock.now = 998;
    timers.shift()?.run();
    expect(route.stored.greenWeight).toBe(0.5);
    expect(timers.map((t) => t.at)).toEqual([1001]);
    clock.now = 1001;
    timers.shift()?.run();
    expect(route.stored).toMatchObject({ greenWeight: 0, mirror: 0, reason: 'lease expired: back on blue' });
  });

  it('refuses weight above 0 without a lease, and keeps a promotion across a restart', async () => {
    const dir = tempDir();
    const route = new RouteHolder({ stateDir: dir, clock: { now: () => 1 } });
    expect(() => route.set({ greenWeight: 0.5, mirror: 0 })).toThrow(/lease/);
    route.set({ greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted' });
    await route.flush();
    const restarted = new RouteHolder({ stateDir: dir, clock: { now: () => 10_000_000 } });
    expect(restarted.effective()).toMatchObject({ greenWeight: 1, mirror: 0 });
    // The route's revision goes on from the saved one: a conditional route naming an earlier one never matches again.
    expect(restarted.stored.revision).toBe(1);
    expect(restarted.set({ greenWeight: 0, mirror: 0 }).revision).toBe(2);
  });

  it("writes no change under way once detached (draining: the file is the next proxy's)", async () => {
    const dir = tempDir();
    const route = new RouteHolder({ stateDir: dir, clock: { now: () => 1 } });
    route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: 60_000, reason: 'stage 1' });
    await route.flush();
    // Its write under way, the proxy starts draining and a new one takes the folder.
    route.set({ greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted' });
    route.detach();
    await route.flush();
    const saved = JSON.parse(readFileSync(path.join(dir, ROUTE_FILE), 'utf8')) as { reason: string };
    expect(saved.reason).toBe('stage 1');
  });

  it("applies a saved route only for the plan and models that set it (another plan's promotion is not its own)", async () => {
    const dir = tempDir();
    const planA = routeOwner('support-bot', 'gpt-4o', 'gpt-4.1');
    const promoted = new RouteHolder({ stateDir: dir, clock: { now: () => 1 }, rollout: planA });
    promoted.set({ greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted' });
    await promoted.flush();
    expect(JSON.parse(readFileSync(path.join(dir, ROUTE_FILE), 'utf8'))).toMatchObject({ promotedArm: 'green', rollout: planA });

    expect(new RouteHolder({ stateDir: dir, clock: { now: () => 2 }, rollout: planA }).effective().greenWeight).toBe(1);
    for (const other of [routeOwner('support-bot', 'gpt-4o', 'gpt-5-broken'), routeOwner('other-plan', 'gpt-4o', 'gpt-4.1')]) {
      const notices: string[] = [];
      const restarted = new RouteHolder({ stateDir: dir, clock: { now: () => 2 }, rollout: other, onNotice: (m) => notices.push(m) });
      expect(restarted.effective()).toMatchObject({ greenWeight: 0, mirror: 0 });
      expect(restarted.stored.promotedArm).toBeUndefined();
      expect(notices).toEqual([`${path.join(dir, ROUTE_FILE)} was recorded for ${planA}, not ${other}: its route is not applied; serving blue`]);
    }
    // A file that does not say whose it is sends nothing to green either.
    writeFileSync(path.join(dir, ROUTE_FILE), JSON.stringify({ greenWeight: 1, mirror: 0, promotedArm: 'green', updatedAt: 1 }));
    expect(new RouteHolder({ stateDir: dir, clock: { now: () => 2 }, rollout: planA }).effective().greenWeight).toBe(0);
  });

  it('goes on from the revision of a saved route it does not apply: blue in its place is the next revision, never an earlier one', async () => {
    const dir = tempDir();
    const planA = routeOwner('support-bot', 'gpt-4o', 'gpt-4.1');
    const other = routeOwner('other-plan', 'gpt-4o', 'gpt-4.1');
    const first = new RouteHolder({ stateDir: dir, clock: { now: () => 1 }, rollout: planA });
    for (let stage = 1; stage <= 3; stage++) first.set({ greenWeight: 0.1 * stage, mirror: 0, leaseExpiresAt: 60_000 });
    first.set({ greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted' });
    await first.flush();
    expect(first.stored.revision).toBe(4);

    const restarted = new RouteHolder({ stateDir: dir, clock: { now: () => 2 }, rollout: other });
    expect(restarted.effective().greenWeight).toBe(0);
    expect(restarted.stored.revision).toBe(5);
    // A caller that read the refused promotion (revision 4) finds the route changed since.
    expect(restarted.changedFrom({ revision: 4 })).toMatch(/changed since it was read/);
    expect(restarted.set({ greenWeight: 0, mirror: 0 }).revision).toBe(6);

    // A damaged file that still names its revision counts from it too.
    writeFileSync(path.join(dir, ROUTE_FILE), JSON.stringify({ greenWeight: 'lots', revision: 9 }));
    expect(new RouteHolder({ stateDir: dir, clock: { now: () => 3 }, rollout: other }).stored.revision).toBe(10);
  });

  it('serves blue from a damaged route file, saying so', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, ROUTE_FILE), '{"greenWeight": "lots"}');
    const notices: string[] = [];
    const route = new RouteHolder({ stateDir: dir, clock: { now: () => 1 }, onNotice: (m) => notices.push(m) });
    expect(route.effective().greenWeight).toBe(0);
    expect(notices[0]).toContain('is not a route');
  });
});

describe('describeRoute', () => {
  it('says weights as the dashboard and status do, in percent, and a promotion as what it serves', () => {
    expect(describeRoute({ greenWeight: 0.5, mirror: 0, updatedAt: 1, reason: 'stage 2/4' })).toBe('green 50%, mirror 0% (stage 2/4)');
    expect(describeRoute({ greenWeight: 0.125, mirror: 1, updatedAt: 1 })).toBe('green 12.5%, mirror 100%');
    expect(describeRoute({ greenWeight: 1, mirror: 0, promotedArm: 'green', updatedAt: 1, reason: 'promoted' })).toBe('promoted green (promoted)');
  });
});

describe('proxy settings', () => {
  it('reads HOST:PORT and knows loopback addresses', () => {
    expect(parseListen('127.0.0.1:8787')).toEqual({ host: '127.0.0.1', port: 8787 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('8787')).toThrow(/HOST:PORT/);
    expect(() => parseListen('h:99999')).toThrow(`--listen's port must be from 0 to 65535, got "h:99999"`);
    expect(['127.0.0.1', '127.8.0.1', 'localhost', '::1'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com'].some(isLoopback)).toBe(false);
    // IPv6 written out in full, or an IPv4-mapped loopback as a URL's hostname spells it (hex).
    expect(['0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::FFFF:7F09:807'].every(isLoopback)).toBe(true);
    expect(['::ffff:a00:1', '::ffff:10.0.0.1', '::2', 'fe80::1%eth0'].some(isLoopback)).toBe(false);
    expect(isLoopback('::1%lo')).toBe(true);
    expect(splitKeys(' a, b\nc ')).toEqual(['a', 'b', 'c']);
  });

  it('warns when max_connections would take every file the process may open (ulimit -n)', () => {
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n';
    expect(openFileLimit(() => limits)).toBe(1024);
    expect(openFileLimit(() => limits.replace('1024 ', 'unlimited '))).toBeUndefined();
    expect(
      openFileLimit(() => {
        throw new Error('no /proc here');
      }),
    ).toBeUndefined();
    expect(fileLimitNotice(4096, 1024)).toMatch(/^warning: proxy\.limits\.max_connections is 4096, but this process may open only 1024 files \(ulimit -n\)/);
    expect(fileLimitNotice(4096, 1_048_576)).toBeUndefined();
    expect(fileLimitNotice(4096, undefined)).toBeUndefined();
    // This machine's own limit reads as a number on Linux (elsewhere there is no /proc: undefined, no warning).
    expect(typeof openFileLimit()).toBe(process.platform === 'linux' ? 'number' : 'undefined');
  });

  it('names a URL another machine can use: not 0.0.0.0 or ::, which only say the proxy listens everywhere', () => {
    expect(reachableUrl('http://0.0.0.0:8787', '0.0.0.0')).toBe('http://THIS_HOST:8787');
    expect(reachableUrl('http://[::]:8787', '::')).toBe('http://THIS_HOST:8787');
    expect(reachableUrl('http://10.0.0.5:8787', '10.0.0.5')).toBe('http://10.0.0.5:8787');
    expect(reachableUrl('http://127.0.0.1:8787', '127.0.0.1')).toBe('http://127.0.0.1:8787');
  });
});
