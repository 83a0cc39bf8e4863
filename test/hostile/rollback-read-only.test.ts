// `bluegreen rollback` on a state folder it cannot write (found by session 19: a read-only folder) refused at the
// folder's lock, exit 2, and left green on until the proxies' leases ran out, and an exec hook's traffic on green
// for good. Now it puts traffic back on blue first (the proxy told, the hook run), then says it could not record
// that, exit 5 (still unfinished). The folder is made unwritable for the rollback's process: read-only to its user
// (as root, the rollback runs as nobody, since root writes anywhere). Session 21: `--force-blue` after the rollout
// ended did the same (exit 2 at the lock, the proxies left where they were), and two such lock-free rollbacks both
// ran on_rollback at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { acquireLock, StateStore } from '../../src/state/index.js';
import { loadPlan } from '../../src/plan/load.js';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { BIN, exitOf, stderrOf } from '../e2e/helpers.js';
import { tempDir } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { ADMIN_TOKEN, liveFixture, writeRolloutPlan } from '../live/helpers.js';
import type { Running } from '../proxy/helpers.js';
import { deadPid, snapshot } from '../state/helpers.js';

const fixture = liveFixture();
/** Root writes through any mode: the rollback then runs as nobody, for whom the folder is read-only. */
const asRoot = process.getuid?.() === 0;
const other = asRoot ? { uid: 65534, gid: 65534 } : {};

/**
 * Lets nobody through the folders above `dir` (the test run's temporary folders, or the clone's, may be private to
 * their owner), each given back its own mode once the test ends.
 */
function traversable(dir: string): void {
  for (let up = path.dirname(dir); up !== path.dirname(up); up = path.dirname(up)) {
    const { mode } = statSync(up);
    if ((mode & 0o001) !== 0) continue;
    chmodSync(up, mode | 0o001);
    onTestFinished(() => chmodSync(up, mode & 0o7777));
  }
}

interface DeadRollout {
  proxy: Running;
  /** The plan's folder (writable, for the hook's log). */
  dir: string;
  stateDir: string;
  /** state.json as the test left it. */
  stateBefore: string;
  /** `bluegreen rollback ARGS --state-dir STATE_DIR`, run as a user who cannot write the state folder. */
  rollback: (args?: string[]) => ChildProcess;
}

/**
 * A live rollout killed at stage 1 with green at 50% (its route under a five-minute lease, its state and lock left
 * by a kill -9), or, with `ended`, one already marked rolled back whose proxy an operator set by hand since; its
 * state folder read-only to the rollbacks the test runs.
 */
async function deadRollout(options: { hook?: string; ended?: Partial<RolloutSnapshot> } = {}): Promise<DeadRollout> {
  const [proxy] = (await fixture.startProxies(1)) as [Running];
  const dir = writeRolloutPlan({ stages: ['{ duration: 1m, green_weight: 0.5 }'] }, [proxy]);
  const file = path.join(dir, 'plan.yaml');
  if (options.hook !== undefined) appendFileSync(file, `hooks:\n  on_rollback: { exec: '${options.hook}' }\n`);
  const plan = loadPlan(file, dir);
  const leaseExpiresAt = Date.now() + 5 * 60_000;
  proxy.proxy.route.set(
    options.ended
      ? { greenWeight: 0.3, mirror: 0, leaseExpiresAt, reason: 'operator: canary by hand' }
      : { greenWeight: 0.5, mirror: 0, leaseExpiresAt, reason: 'stage 1/1 of live-test' },
  );
  const stateDir = tempDir();
  const pid = await deadPid();
  const dead = snapshot({
    pid,
    greenWeight: 0.5,
    plan: { name: plan.name, file, hash: plan.source.hash, blueModel: 'gpt-4o', greenModel: 'gpt-4.1', stages: [{ durationMs: 60_000, greenWeight: 0.5 }] },
    ...options.ended,
  });
  await new StateStore(stateDir).writeState(dead);
  if (!options.ended)
    acquireLock(stateDir, { pid, planName: plan.name, startedAt: Date.now(), user: 'ci', host: hostname() }, { now: Date.now, host: hostname() });
  const stateBefore = readFileSync(path.join(stateDir, 'state.json'), 'utf8');
  chmodSync(stateDir, 0o555);
  // Writable again however the test ends, so the run's temporary folders can be removed.
  onTestFinished(() => chmodSync(stateDir, 0o755));
  // The plan's folder stays writable for the hook's log.
  chmodSync(dir, 0o777);
  // BIN too: a clone in a private folder (mktemp -d) was out of nobody's reach (MODULE_NOT_FOUND, exit 1).
  if (asRoot) for (const folder of [stateDir, dir, BIN]) traversable(folder);
  const rollback = (args: string[] = []) =>
    killAfterTest(
      spawn(process.execPath, [BIN, 'rollback', ...args, '--state-dir', stateDir], {
        cwd: dir,
        env: { PATH: process.env.PATH, ADMIN_TOKEN },
        stdio: ['ignore', 'ignore', 'pipe'],
        ...other,
      }),
    );
  return { proxy, dir, stateDir, stateBefore, rollback };
}

it('puts the proxy and the hook back on blue first, then says it could not record that (exit 5, still unfinished)', async () => {
  const { proxy, dir, stateDir, stateBefore, rollback: run } = await deadRollout({ hook: 'echo "rollback $BLUEGREEN_GREEN_WEIGHT" >> hook.log' });

  const rollback = run();
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

// Before: refused at the folder's lock (exit 2), the proxy left on the operator's green.
it('rollback --force-blue after the rollout ended puts its proxies on blue, then says the journal could not note it (exit 5)', async () => {
  const {
    proxy,
    stateDir,
    stateBefore,
    rollback: run,
  } = await deadRollout({
    ended: { phase: 'rolled_back', greenWeight: 0, endedAt: Date.now(), exitCode: 5, reason: 'rolled back to blue by ci' },
  });

  const rollback = run(['--force-blue']);
  const stderr = stderrOf(rollback);
  const { code } = await exitOf(rollback);

  expect(code, stderr.text()).toBe(5);
  expect(proxy.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
  expect(stderr.text()).toContain("putting traffic back on blue all the same, without the folder's lock");
  expect(stderr.text()).toMatch(
    /the recorded outcome \(rolled back, exit 5\) is unchanged; but the journal could not note this \(permission denied\): make \S+ writable and run bluegreen rollback --force-blue again/,
  );
  expect(readFileSync(path.join(stateDir, 'state.json'), 'utf8')).toBe(stateBefore);
});

// Before: with no lock to take, a second rollback ran on_rollback beside the first one's.
it('a second lock-free rollback refuses (exit 2) while the first runs on_rollback, naming it; the hook runs once', async () => {
  const { dir, rollback: run } = await deadRollout({ hook: 'echo ran >> hook.log; while [ ! -e go ]; do sleep 0.05; done' });
  const log = path.join(dir, 'hook.log');
  const ran = () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
  const first = run();
  const firstStderr = stderrOf(first);
  await until(() => {
    try {
      return ran() === 1;
    } catch {
      return false;
    }
  }, "the first rollback's on_rollback hook");

  const letGo = () => writeFileSync(path.join(dir, 'go'), '');
  // The first answers the second's connection with its pid, waited for 2 s (PID_ANSWER_MS in recovery-guard.ts): on a
  // machine too loaded for that the refusal names no pid. It refuses all the same (exit 2, no hook), so it is asked
  // again, at most 5 times, rather than the test depend on the 2 s; the first holds the guard throughout.
  let refusal = '';
  for (let attempt = 0; attempt < 5 && !refusal.includes('(pid '); attempt++) {
    const second = run();
    const secondStderr = stderrOf(second);
    // Should the second run the hook too (the bug), the hooks are let go at once, so the test fails rather than hangs.
    let secondDone = false;
    void until(() => secondDone || ran() > 1, 'the second rollback').then(
      () => ran() > 1 && letGo(),
      () => {},
    );
    const { code } = await exitOf(second);
    secondDone = true;
    refusal = secondStderr.text();
    expect(code, refusal).toBe(2);
    expect(refusal).toMatch(/another bluegreen rollback (\(pid \d+\) )?is putting the rollout of plan "live-test" back on blue right now/);
    expect(ran()).toBe(1);
  }
  letGo();

  expect(refusal).toContain(`another bluegreen rollback (pid ${first.pid}) is putting the rollout of plan "live-test" back on blue right now`);
  expect((await exitOf(first)).code, firstStderr.text()).toBe(5);
  expect(ran()).toBe(1);
});
