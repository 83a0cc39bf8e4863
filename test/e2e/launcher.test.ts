// `npx bluegreen rollout …` (a real `npm exec`, offline, from a project that has bluegreen in node_modules)
// and a CI job's step shell running it: stopping the launcher ends the rollout on blue. npm forwards
// SIGINT/SIGTERM only to the /bin/sh it runs bluegreen through, which dies of SIGTERM and holds SIGINT.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProcStat } from '../../src/core/proc-stat.js';
import { runCli } from '../helpers/cli.js';
import { exitOf, hookLog, journal, journalHas, loggingPlan, npmEnv, projectWithBluegreen, readState, stderrOf } from './helpers.js';
import { isAlive, killAfterTest } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const LINUX = process.platform === 'linux';

function finished(dir: string): () => boolean {
  return journalHas(dir, 'finished');
}

async function rolloutProcessGone(dir: string): Promise<void> {
  const pid = Number(readState(dir).pid);
  await until(() => !isAlive(pid), `bluegreen (pid ${pid}) to exit`);
}

function npx(dir: string, args: string[]): ChildProcess {
  return killAfterTest(spawn('npm', ['exec', '--', 'bluegreen', ...args], { cwd: dir, env: npmEnv(), stdio: ['ignore', 'ignore', 'pipe'] }));
}

describe.skipIf(!LINUX)('stopping the launcher', () => {
  it('SIGTERM to `npm exec` (npx) rolls back: exit 143, on_rollback ran, nothing left running', async () => {
    const dir = projectWithBluegreen();
    loggingPlan(dir);
    const npm = npx(dir, ['rollout', 'plan.yaml', '--plain']);
    await until(journalHas(dir, 'stage_started'), 'stage 1');
    npm.kill('SIGTERM');
    await exitOf(npm);
    await until(finished(dir), 'the rollout to finish');
    await rolloutProcessGone(dir);
    expect(readState(dir)).toMatchObject({ phase: 'interrupted', exitCode: 143, greenWeight: 0 });
    expect(journal(dir).find((e) => e.type === 'interrupted')?.message).toMatch(/its launcher sh \(pid \d+\) exiting/);
    expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
  });

  // Before: npm died of the SIGHUP (its caller saw 129) and the rollout, finding npm gone, recorded 143.
  it('SIGHUP to `npm exec` (npm dies of it, its shell lives on) rolls back, and the exit and the record both say 129', async () => {
    const dir = projectWithBluegreen();
    loggingPlan(dir);
    const npm = npx(dir, ['rollout', 'plan.yaml', '--plain']);
    await until(journalHas(dir, 'stage_started'), 'stage 1');
    npm.kill('SIGHUP');
    const exit = await exitOf(npm);
    await until(finished(dir), 'the rollout to finish');
    await rolloutProcessGone(dir);
    expect(exit.code === 129 || exit.signal === 'SIGHUP').toBe(true);
    expect(readState(dir)).toMatchObject({ phase: 'interrupted', exitCode: 129, greenWeight: 0 });
    expect(journal(dir).find((e) => e.type === 'interrupted')?.message).toMatch(/its launcher npm \(pid \d+\) dying of a signal it does not pass on/);
    expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
  });

  it('SIGINT to `npm exec` (swallowed by its shell until now) rolls back with exit 130', async () => {
    const dir = projectWithBluegreen();
    loggingPlan(dir);
    const npm = npx(dir, ['rollout', 'plan.yaml', '--plain']);
    await until(journalHas(dir, 'stage_started'), 'stage 1');
    npm.kill('SIGINT');
    const exit = await exitOf(npm);
    // The shell re-raises SIGINT once bluegreen is done, and npm dies of it: the step fails only after the rollback.
    expect(exit.code === 130 || exit.signal === 'SIGINT').toBe(true);
    expect(finished(dir)()).toBe(true);
    expect(readState(dir)).toMatchObject({ phase: 'interrupted', exitCode: 130, greenWeight: 0 });
    expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
  });

  it("a cancelled CI job running docs/ci.md's step (SIGINT then SIGTERM to the step's shell) rolls back", async () => {
    const dir = projectWithBluegreen();
    loggingPlan(dir);
    // The step as docs/ci.md writes it, run the way GitHub runs a `run:` step (bash -e, a script file).
    const step = path.join(dir, 'step.sh');
    copyFileSync(path.resolve(import.meta.dirname, 'fixtures/ci-step.sh'), step);
    const shell = killAfterTest(
      spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', step], {
        cwd: dir,
        env: { ...npmEnv(), PLAN: 'plan.yaml', GITHUB_OUTPUT: path.join(dir, 'github-output') },
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    await until(journalHas(dir, 'stage_started'), 'stage 1');
    // The runner's cancel: SIGINT to the step's process, then SIGTERM (7.5 s later on GitHub; at once here).
    shell.kill('SIGINT');
    shell.kill('SIGTERM');
    await exitOf(shell);
    await until(finished(dir), 'the rollout to finish');
    await rolloutProcessGone(dir);
    expect(readState(dir)).toMatchObject({ phase: 'interrupted', greenWeight: 0 });
    expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
  });
});

// A promotion under way finishes whatever signal comes (exit 0, docs/operations.md), but npm's code is npm's: 143 at
// once for a SIGTERM, and 130 after the rollout for a Ctrl-C (its /bin/sh re-raises SIGINT whatever the rollout's
// exit). A caller reading those as README's "rolled back to blue" is wrong: traffic is on green; the record says so.
describe.skipIf(!LINUX)('stopping the launcher while the rollout promotes', () => {
  /** A rollout through `npm exec` whose on_promote holds until the test lets it go; resolves once it runs. */
  async function promoting(detached: boolean): Promise<{ dir: string; npm: ChildProcess; stderr: ReturnType<typeof stderrOf> }> {
    const dir = projectWithBluegreen();
    loggingPlan(dir, { promoteHook: 'echo $$ > promote.pid; while [ ! -e go ]; do /bin/sleep 0.02; done; echo "promote $BLUEGREEN_GREEN_WEIGHT" >> hook.log' });
    const npm = killAfterTest(
      spawn('npm', ['exec', '--', 'bluegreen', 'rollout', 'plan.yaml', '--plain'], { cwd: dir, env: npmEnv(), stdio: ['ignore', 'ignore', 'pipe'], detached }),
    );
    const stderr = stderrOf(npm);
    await until(journalHas(dir, 'stage_started'), 'stage 1');
    expect((await runCli(['promote'], { cwd: dir })).code).toBe(0);
    await until(() => existsSync(path.join(dir, 'promote.pid')), 'on_promote to start');
    return { dir, npm, stderr };
  }

  it('SIGTERM to `npm exec`: npm exits 143 at once, the rollout promotes all the same (its record says 0)', async () => {
    const { dir, npm } = await promoting(false);
    npm.kill('SIGTERM');
    try {
      // npm is gone while on_promote still holds: it did not wait for the rollout. (Its stderr, which bluegreen and
      // the hook share, stays open until they end: only its exit is waited for.)
      if (npm.exitCode === null && npm.signalCode === null) await once(npm, 'exit');
      expect(hookLog(dir)).toEqual(['stage 0.25']);
    } finally {
      writeFileSync(path.join(dir, 'go'), '');
    }
    expect(npm.exitCode === 143 || npm.signalCode === 'SIGTERM').toBe(true);
    await until(finished(dir), 'the rollout to finish');
    await rolloutProcessGone(dir);
    expect(readState(dir)).toMatchObject({ phase: 'promoted', exitCode: 0, greenWeight: 1 });
    expect(hookLog(dir)).toEqual(['stage 0.25', 'promote 1']);
  });

  it("Ctrl-C (SIGINT to npm's process group): npm exits 130 after the rollout, which promoted (its record says 0)", async () => {
    const { dir, npm, stderr } = await promoting(true);
    process.kill(-(npm.pid as number), 'SIGINT');
    try {
      await stderr.waitFor('SIGINT: the rollout is already ending');
    } finally {
      writeFileSync(path.join(dir, 'go'), '');
    }
    const exit = await exitOf(npm);
    expect(exit.code === 130 || exit.signal === 'SIGINT').toBe(true);
    expect(readState(dir)).toMatchObject({ phase: 'promoted', exitCode: 0, greenWeight: 1 });
    expect(hookLog(dir)).toEqual(['stage 0.25', 'promote 1']);
  });
});

// SIGTERM to npm kills its relay shell, whose exit can sleep: the launcher watch tells that switch from a SIGINT's
// by the kernel's PF_EXITING flag (src/cli/launcher.ts), set before the exit can sleep and kept in the zombie.
it.skipIf(!LINUX)('/proc reads a dying process (here a zombie) as exiting, and a sleeping one as not', async () => {
  // `true &` exits at once; its parent, exec'ed into sleep, never reaps it.
  const parent = killAfterTest(spawn('/bin/sh', ['-c', 'true & exec sleep 30'], { stdio: 'ignore' }));
  const pid = parent.pid as number;
  const child = () => Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim());
  await until(() => child() > 0 && readProcStat(child())?.state === 'Z', 'the child to be a zombie');
  expect(readProcStat(child())?.exiting).toBe(true);
  await until(() => readProcStat(pid)?.state === 'S', 'the parent to sleep');
  expect(readProcStat(pid)?.exiting).toBe(false);
});
