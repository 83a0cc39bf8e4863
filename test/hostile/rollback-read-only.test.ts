// `bluegreen rollback` on a state folder it cannot write (found by session 19: a read-only folder) refused at the
// folder's lock, exit 2, and left green on until the proxies' leases ran out, and an exec hook's traffic on green
// for good. Now it puts traffic back on blue first (the proxy told, the hook run), then says it could not record
// that, exit 5 (still unfinished). The folder is made unwritable for the rollback's process: read-only to its user
// (as root, the rollback runs as nobody, since root writes anywhere).
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { acquireLock, StateStore } from '../../src/state/index.js';
import { loadPlan } from '../../src/plan/load.js';
import { BIN, exitOf, stderrOf } from '../e2e/helpers.js';
import { tempDir } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';
import { ADMIN_TOKEN, liveFixture, writeRolloutPlan } from '../live/helpers.js';
import type { Running } from '../proxy/helpers.js';
import { deadPid, snapshot } from '../state/helpers.js';

const fixture = liveFixture();
/** Root writes through any mode: the rollback then runs as nobody, for whom the folder is read-only. */
const asRoot = process.getuid?.() === 0;
const other = asRoot ? { uid: 65534, gid: 65534 } : {};

/** Lets nobody through the folders above `dir` (the test run's temporary folders, or the clone's, may be private to their owner). */
function traversable(dir: string): void {
  for (let up = path.dirname(dir); up !== path.dirname(up); up = path.dirname(up)) {
    const { mode } = statSync(up);
    if ((mode & 0o001) === 0) chmodSync(up, mode | 0o001);
  }
}

it('puts the proxy and the hook back on blue first, then says it could not record that (exit 5, still unfinished)', async () => {
  const [proxy] = (await fixture.startProxies(1)) as [Running];
  const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }'] }, [proxy]);
  const file = path.join(dir, 'plan.yaml');
  appendFileSync(file, `hooks:\n  on_rollback: { exec: 'echo "rollback $BLUEGREEN_GREEN_WEIGHT" >> hook.log' }\n`);
  const plan = loadPlan(file, dir);
  // The dead rollout's stage: its route under a five-minute lease, its state and lock left by a kill -9.
  proxy.proxy.route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: Date.now() + 5 * 60_000, reason: 'stage 1/1 of live-test' });
  const stateDir = tempDir();
  const pid = await deadPid();
  const dead = snapshot({
    pid,
    greenWeight: 0.5,
    plan: { name: plan.name, file, hash: plan.source.hash, blueModel: 'gpt-4o', greenModel: 'gpt-4.1', stages: [{ durationMs: 60_000, greenWeight: 0.5 }] },
  });
  await new StateStore(stateDir).writeState(dead);
  acquireLock(stateDir, { pid, planName: plan.name, startedAt: Date.now(), user: 'ci', host: hostname() }, { now: Date.now, host: hostname() });
  const stateBefore = readFileSync(path.join(stateDir, 'state.json'), 'utf8');
  chmodSync(stateDir, 0o555);
  // Writable again however the test ends, so the run's temporary folders can be removed.
  onTestFinished(() => chmodSync(stateDir, 0o755));
  // The plan's folder stays writable for the hook's log.
  chmodSync(dir, 0o777);
  // BIN too: a clone in a private folder (mktemp -d) was out of nobody's reach (MODULE_NOT_FOUND, exit 1).
  if (asRoot) for (const folder of [stateDir, dir, BIN]) traversable(folder);

  const rollback = killAfterTest(
    spawn(process.execPath, [BIN, 'rollback', '--state-dir', stateDir], {
      cwd: dir,
      env: { PATH: process.env.PATH, ADMIN_TOKEN },
      stdio: ['ignore', 'ignore', 'pipe'],
      ...other,
    }),
  );
  const stderr = stderrOf(rollback);
  const { code } = await exitOf(rollback);

  expect(code, stderr.text()).toBe(5);
  expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  expect(readFileSync(path.join(dir, 'hook.log'), 'utf8')).toBe('rollback 0\n');
  expect(stderr.text()).toContain(`cannot create ${path.join(stateDir, 'lock.takeover')}`);
  expect(stderr.text()).toContain("putting traffic back on blue all the same, without the folder's lock");
  expect(stderr.text()).toMatch(
    /on_rollback ran; traffic is back on blue; .*; but this could not be recorded \(permission denied\): the rollout is still marked unfinished/,
  );
  expect(stderr.text()).toContain(`make ${stateDir} writable and run bluegreen rollback again`);
  // Nothing recorded: the rollout is still the dead one, for the next rollback once the folder is fixed.
  expect(readFileSync(path.join(stateDir, 'state.json'), 'utf8')).toBe(stateBefore);
});
