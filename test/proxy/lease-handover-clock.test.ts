// Handing a proxy to another rollout run while its holder's lease may still run on either clock. The proxy serves
// blue at the earlier end of a lease (its wall expiry or its steady deadline: fail toward blue), but another run's
// first route waits for the steady deadline: after the proxy's wall clock stepped forward, its holder is still
// renewing, and a run that took the proxy then would have that renewal refused and both runs roll back.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { readRoutesOnce } from '../../src/live/routes.js';
import { ROUTE_FILE } from '../../src/proxy/route.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { tempDir } from '../helpers/plans.js';
import { runProxy, simPlan } from './helpers.js';

const TOKEN = 'admin-token-for-tests';

async function proxyOnFakeClock(clock = new FakeClock(), stateDir?: string) {
  const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), {
    env: { ADMIN_TOKEN: TOKEN },
    stateDir,
    now: () => clock.now(),
    steadyNow: () => clock.steadyNow(),
  });
  const adminUrl = running.proxy.adminUrl as string;
  const url = `${adminUrl}/admin/route`;
  const read = async () =>
    (await (await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { heldBy?: unknown; serves: string; quality: string };
  const put = async (body: Record<string, unknown>) => {
    const answer = await fetch(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mirror: 0, ...body }),
    });
    return { status: answer.status, ...((await answer.json()) as { error?: string; code?: string; lapsedAt?: number }) };
  };
  return { clock, proxy: running.proxy, put, read, adminUrl, close: () => running.close() };
}

/**
 * A proxy in a new state folder that gave run-a a 30 s lease, `steadyMs` into which its wall clock stepped an hour
 * on (the lease lapsed: serving blue), then stopped: its route file keeps the lapsed hold. `lapsedAt`: the wall time
 * it lapsed at.
 */
async function lapsedThenStopped(steadyMs = 0) {
  const stateDir = tempDir('bluegreen-hold-');
  const first = await proxyOnFakeClock(undefined, stateDir);
  const { clock } = first;
  expect((await first.put({ controller: 'run-a', greenWeight: 0.5, ttlMs: 30_000 })).status).toBe(200);
  if (steadyMs > 0) await clock.advance(steadyMs);
  clock.jumpWall(3_600_000);
  expect(first.proxy.route.effective().greenWeight).toBe(0);
  const lapsedAt = clock.now();
  await first.close();
  return { clock, stateDir, file: path.join(stateDir, ROUTE_FILE), lapsedAt };
}

it("after the proxy's wall clock steps forward, its holder's lease still holds the proxy for the steady time left", async () => {
  const { clock, proxy, put } = await proxyOnFakeClock();
  expect((await put({ controller: 'run-a', greenWeight: 0.5, ttlMs: 30_000 })).status).toBe(200);
  await clock.advance(10_000);
  clock.jumpWall(3_600_000);
  // Serving fails toward blue at once.
  expect(proxy.route.effective()).toMatchObject({ greenWeight: 0, mirror: 0 });
  // Another run's first route is refused until the lease would run out on the steady clock (20 s on).
  const held = await put({ controller: 'run-b', greenWeight: 0.1, ttlMs: 30_000 });
  expect(held).toMatchObject({ status: 409, code: 'held' });
  expect(held.error).toContain(`until its lease runs out at ${new Date(clock.now() + 20_000).toISOString()}`);
  // Its holder's next renewal takes the route back, and is told the proxy lapsed.
  const renewed = await put({ controller: 'run-a', greenWeight: 0.5, ttlMs: 30_000, goingOn: true });
  expect(renewed).toMatchObject({ status: 200, lapsedAt: expect.any(Number) });
  expect(proxy.route.effective().greenWeight).toBe(0.5);
});

it('a lapsed lease frees the proxy once its steady time has passed too, and a wall clock set back never stretches the hold', async () => {
  const { clock, proxy, put } = await proxyOnFakeClock();
  expect((await put({ controller: 'run-a', greenWeight: 0.5, ttlMs: 30_000 })).status).toBe(200);
  clock.jumpWall(3_600_000);
  expect(proxy.route.effective().greenWeight).toBe(0);
  await clock.advance(29_999);
  expect((await put({ controller: 'run-b', greenWeight: 0.1, ttlMs: 30_000 })).code).toBe('held');
  await clock.advance(1);
  expect((await put({ controller: 'run-b', greenWeight: 0.1, ttlMs: 30_000 })).status).toBe(200);

  // run-b's lease, the wall clock set back an hour: it runs out on the steady clock, and run-c may go at once.
  clock.jumpWall(-3_600_000);
  await clock.advance(30_000);
  expect(proxy.route.effective().greenWeight).toBe(0);
  expect((await put({ controller: 'run-c', greenWeight: 0.1, ttlMs: 30_000 })).status).toBe(200);
});

it("a rollout's preflight refuses the proxy in that window (exit 3), as its first route would be; the holder's renewal ends it", async () => {
  const { clock, put, read, adminUrl } = await proxyOnFakeClock();
  expect((await put({ controller: 'run-a', greenWeight: 0.5, ttlMs: 30_000 })).status).toBe(200);
  expect((await read()).heldBy).toBeUndefined();
  clock.jumpWall(3_600_000);
  const answer = await read();
  const until = clock.now() + 30_000;
  expect(answer.heldBy).toMatchObject({ controller: 'run-a', greenWeight: 0.5, leaseExpiresAt: until });
  const served = { owner: answer.serves, quality: answer.quality };
  await expect(readRoutesOnce([adminUrl], TOKEN, served)).rejects.toMatchObject({
    exitCode: 3,
    message: expect.stringContaining(`another rollout drives this proxy until its lease runs out at ${new Date(until).toISOString()}`),
  });
  // The holder's own run (a resume of it) is not refused.
  await expect(readRoutesOnce([adminUrl], TOKEN, served, ['run-a'])).resolves.toHaveLength(1);
  expect((await put({ controller: 'run-a', greenWeight: 0.5, ttlMs: 30_000, goingOn: true })).status).toBe(200);
  expect((await read()).heldBy).toBeUndefined();
});

it('a proxy restarted during the hold still holds: for all the steady time that was left when the lease lapsed', async () => {
  const { clock, stateDir } = await lapsedThenStopped(10_000);

  // The restarted proxy cannot know how long it was down: it holds for the 20 s left at the lapse, from its start.
  await clock.advance(5_000);
  const second = await proxyOnFakeClock(clock, stateDir);
  expect(second.proxy.route.effective().greenWeight).toBe(0);
  const held = await second.put({ controller: 'run-b', greenWeight: 0.1, ttlMs: 30_000 });
  expect(held).toMatchObject({ status: 409, code: 'held' });
  expect(held.error).toContain(`until its lease runs out at ${new Date(clock.now() + 20_000).toISOString()}`);
  expect((await second.read()).heldBy).toMatchObject({ controller: 'run-a', greenWeight: 0.5 });
  await clock.advance(20_000);
  expect((await second.put({ controller: 'run-b', greenWeight: 0.1, ttlMs: 30_000 })).status).toBe(200);
});

it('a route file from before the hold was saved (no lapsedHold) still loads, with no hold', async () => {
  const { clock, stateDir, file } = await lapsedThenStopped();
  const { lapsedHold, ...old } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  expect(lapsedHold).toMatchObject({ route: { controller: 'run-a' }, leftMs: 30_000 });
  writeFileSync(file, JSON.stringify(old));

  const second = await proxyOnFakeClock(clock, stateDir);
  expect(second.proxy.route.stored).toMatchObject({ controller: 'run-a', greenWeight: 0 });
  expect((await second.read()).heldBy).toBeUndefined();
  expect((await second.put({ controller: 'run-b', greenWeight: 0.1, ttlMs: 30_000 })).status).toBe(200);
});

it('a proxy in a restart loop does not hold anew at each start: never past the lapse plus the lease length, by the wall clock', async () => {
  const { clock, stateDir, lapsedAt } = await lapsedThenStopped(10_000);

  // Restarted 5 s on, then again 20 s later: the first start holds the 20 s left, the second only to the lapse + 30 s.
  await clock.advance(5_000);
  const second = await proxyOnFakeClock(clock, stateDir);
  expect((await second.read()).heldBy).toMatchObject({ controller: 'run-a', leaseExpiresAt: clock.now() + 20_000 });
  await second.close();
  await clock.advance(20_000);
  const third = await proxyOnFakeClock(clock, stateDir);
  const held = await third.put({ controller: 'run-b', greenWeight: 0.1, ttlMs: 30_000 });
  expect(held).toMatchObject({ status: 409, code: 'held' });
  expect(held.error).toContain(`until its lease runs out at ${new Date(lapsedAt + 30_000).toISOString()}`);
  await third.close();
  // Past that bound a restart holds nothing.
  await clock.advance(5_000);
  const fourth = await proxyOnFakeClock(clock, stateDir);
  expect((await fourth.read()).heldBy).toBeUndefined();
  expect((await fourth.put({ controller: 'run-b', greenWeight: 0.1, ttlMs: 30_000 })).status).toBe(200);
});

it("a lapsed lease's hold saved for another plan is not applied: the route file names whose it was", async () => {
  const { clock, stateDir, file } = await lapsedThenStopped();
  // The same file as another plan's proxy would have left it in a shared folder.
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { rollout: string; lapsedHold: { route: { rollout: string } } };
  expect(saved.lapsedHold.route.rollout).toBe(saved.rollout);
  saved.rollout = saved.lapsedHold.route.rollout = 'another-plan';
  writeFileSync(file, JSON.stringify(saved));

  const second = await proxyOnFakeClock(clock, stateDir);
  expect((await second.read()).heldBy).toBeUndefined();
  expect((await second.put({ controller: 'run-b', greenWeight: 0.1, ttlMs: 30_000 })).status).toBe(200);
});
