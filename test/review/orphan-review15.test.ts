// review15, on orphan15 (a dead run's recovery undoes only its own route): what the other messages that name
// `bluegreen rollback` promise must still hold. Real proxy and rollout processes on 127.0.0.1.
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { ADMIN_TOKEN, proxyPorts, liveFixture, writeRolloutPlan } from '../live/helpers.js';

const fixture = liveFixture();

// FINDING (review15, MEDIUM; fixed on this branch): `rollout --resume` refused over a promotion another run made
// since (src/live/promoted.ts promotedSinceMessage, docs/live.md) told the operator "run bluegreen rollback (it puts
// every proxy of the plan on blue, those included) and roll out again". Since orphan15, `bluegreen rollback` leaves
// another run's promotion standing (said, exit 0); only `--force-blue` puts it on blue. Followed as written, the
// advice moved nothing and the next rollout ended "already promoted". The test runs the command the message names.
it("the --resume refusal's advice, followed as written, puts the promoted proxy on blue", async () => {
  const proxy = fixture.proxyProcess(tempDir(), await proxyPorts());
  await proxy.start();
  // Leases the test never waits out (a 3 s lease's admin calls time out at 1 s, and a stall that long of a loaded
  // machine rolled a run back): the dead run's last renewal, sent in its name, is short instead (renewFor).
  const first = writeRolloutPlan({ stages: ['{ duration: 30s, green_weight: 0.5 }'], controller: 'lease: 5m' }, [proxy.adminUrl]);
  const child = fixture.spawnRollout(first);
  await until(() => proxy.route()?.greenWeight === 0.5, 'the first rollout on the proxy', 60_000);
  child.kill('SIGKILL');
  await once(child, 'exit');
  await proxy.renewFor(100);
  await until(() => proxy.route()?.reason === 'lease expired: back on blue', 'the lease to run out');

  // A second rollout of the plan, from a folder of its own, promotes green (exit 0).
  fixture.application([proxy], 1);
  const second = writeRolloutPlan({ stages: ['{ duration: 1s, green_weight: 0.5 }'], controller: 'lease: 5m' }, [proxy.adminUrl]);
  const promoted = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: second, env: { ADMIN_TOKEN } });
  expect(promoted.code, promoted.stderr).toBe(0);
  expect(proxy.route()).toMatchObject({ promotedArm: 'green', ended: true });

  const resumed = await runCli(['rollout', 'plan.yaml', '--ci', '--resume'], { cwd: first, env: { ADMIN_TOKEN } });
  expect(resumed.code, resumed.stderr).toBe(3);
  const advice = /or run (bluegreen rollback[^()]*?) \(it puts every proxy of the plan on blue, those included\)/.exec(resumed.stderr);
  expect(advice, resumed.stderr).not.toBeNull();
  const args = (advice?.[1] ?? '').split(' ').slice(1);

  const rollback = await runCli(args, { cwd: first, env: { ADMIN_TOKEN } });
  expect(rollback.code, rollback.stderr).toBe(0);
  expect(proxy.route(), rollback.stdout).toMatchObject({ greenWeight: 0, mirror: 0 });
  expect(proxy.route()?.promotedArm).toBeUndefined();
}, 120_000);
