// A signal during a recovery does not stop it halfway: before, `bluegreen rollback` (or a rollout putting a dead
// run's traffic back on blue before it starts) exited at once on Ctrl-C while the on_rollback hook it had started ran
// on in its own process group, unseen. Now the signal is said, the hook and the record finish, and the command then
// exits with the signal's code.
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { StateStore } from '../../src/state/index.js';
import { testContext } from '../helpers/cli.js';
import { planFromYaml, simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { deadPid, snapshot } from '../state/helpers.js';

/** A folder whose rollout died at 50% green; its on_rollback hook waits for a file `go` before it finishes. */
async function orphanedFolder() {
  const dir = tempDir();
  const yaml =
    `${simulatedPlan('recover', '10s', 0.5)}hooks:\n` +
    `  on_rollback: { exec: 'touch started; while [ ! -e go ]; do sleep 0.02; done; echo finished > hook.txt', timeout: 60s }\n`;
  const file = writePlan(yaml, dir);
  const plan = planFromYaml(yaml, dir);
  const store = new StateStore(path.join(dir, '.bluegreen'));
  await store.writeState(
    snapshot({
      pid: await deadPid(),
      phase: 'progressing',
      greenWeight: 0.5,
      plan: { name: 'recover', file, hash: plan.source.hash, blueModel: 'a', greenModel: 'b', stages: [{ durationMs: 10_000, greenWeight: 0.5 }] },
    }),
  );
  return { dir, file, store };
}

/** Runs the command, sends SIGINT once its hook has started, then lets the hook finish. */
async function interruptDuringHook(args: (folder: { dir: string; file: string }) => string[]) {
  const folder = await orphanedFolder();
  const signals = new EventEmitter();
  const ctx = { ...testContext({ cwd: folder.dir }), signals };
  const done = main(['node', 'bluegreen', ...args(folder)], ctx);
  await until(() => existsSync(path.join(folder.dir, 'started')), 'the on_rollback hook to start');
  signals.emit('SIGINT');
  await until(() => ctx.err().includes('finishes first'), 'the signal to be said');
  expect(existsSync(path.join(folder.dir, 'hook.txt'))).toBe(false);
  writeFileSync(path.join(folder.dir, 'go'), '');
  const code = await done;
  return { code, ctx, folder };
}

describe('a signal during a recovery', () => {
  it('lets bluegreen rollback finish its on_rollback and record, then exits 130', async () => {
    const { code, ctx, folder } = await interruptDuringHook(() => ['rollback', '--state-dir', '.bluegreen']);
    expect(ctx.err()).toContain('SIGINT: putting traffic back on blue is under way and finishes first');
    expect(readFileSync(path.join(folder.dir, 'hook.txt'), 'utf8')).toBe('finished\n');
    expect(folder.store.readState()?.phase).toBe('rolled_back');
    expect(ctx.out()).toContain('rolled back the rollout of plan "recover"');
    expect(ctx.err()).toContain('interrupted by SIGINT; the rollback it came during finished first');
    expect(code).toBe(130);
  });

  it("lets a rollout put the dead run's traffic back on blue first, then does not start (exit 130)", async () => {
    const { code, ctx, folder } = await interruptDuringHook(({ file }) => ['rollout', file, '--state-dir', '.bluegreen', '--ci']);
    expect(ctx.err()).toContain("SIGINT: putting the previous rollout's traffic back on blue is under way and finishes first");
    expect(readFileSync(path.join(folder.dir, 'hook.txt'), 'utf8')).toBe('finished\n');
    expect(ctx.err()).toContain("interrupted by SIGINT while starting: the previous rollout's traffic is back on blue");
    expect(ctx.err()).toContain('this rollout did not start');
    expect(folder.store.readState()?.phase).toBe('rolled_back');
    expect(code).toBe(130);
  });
});
