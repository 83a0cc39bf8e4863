// A proxy restarted on a route file whose lease was written by a clock an hour ahead (set back by NTP since, or another
// machine's: the state folder on shared storage, a pod rescheduled). The lease is the writer's wall clock, so the
// restarted proxy resumed the stage's green for an hour with no rollout renewing it. Now a saved lease runs at most
// its own length from the restart. A real `bluegreen proxy` process on 127.0.0.1.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ROUTE_FILE } from '../../src/proxy/route.js';
import { tempDir } from '../helpers/plans.js';
import { ADMIN_TOKEN, proxyPorts, ProxyProcess } from '../live/helpers.js';

let proxy: ProxyProcess | undefined;
afterEach(async () => {
  await proxy?.kill();
  proxy = undefined;
});

it('a 5 s lease saved by a clock an hour ahead runs 5 s from the restart, not an hour', async () => {
  const stateDir = tempDir();
  mkdirSync(stateDir, { recursive: true });
  const ahead = Date.now() + 3_600_000;
  const saved = {
    greenWeight: 0.5,
    mirror: 0,
    leaseExpiresAt: ahead + 5000,
    reason: 'stage 1/2 of live-test',
    controller: 'a-dead-rollout',
    rollout: 'live-test (gpt-4o -> gpt-4.1)',
    updatedAt: ahead,
  };
  writeFileSync(path.join(stateDir, ROUTE_FILE), `${JSON.stringify(saved)}\n`);
  proxy = new ProxyProcess(stateDir, await proxyPorts());
  const before = Date.now();
  // start() returns at the proxy's last startup line: the route notice is on stderr by then.
  await proxy.start();
  // It still resumes the saved stage (a restart within the lease keeps the split), for at most the lease's length.
  expect(proxy.stderr).toMatch(
    /resuming the route saved in the state folder: green 50%, mirror 0% \(stage 1\/2 of live-test\); its lease runs out in [0-5](\.\d+)?s/,
  );
  const answer = await fetch(`${proxy.adminUrl}/admin/route`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const { route } = (await answer.json()) as { route: { leaseExpiresAt: number } };
  expect(route.leaseExpiresAt).toBeLessThanOrEqual(Date.now() + 5000);
  expect(route.leaseExpiresAt).toBeGreaterThanOrEqual(before);
});
