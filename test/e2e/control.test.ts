// `bluegreen pause|resume|promote|abort` from another terminal, against a running rollout (the real binary).
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { watch } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, writePlan, simulatedPlan } from '../helpers/plans.js';
import { journal, startRollout as spawnRollout, stderrOf } from './helpers.js';

const PLAN = simulatedPlan('control-test', '60s', 0.25);

/** Starts a rollout and resolves once its first stage has started; `waitFor` waits for a stderr line. */
async function startRollout(dir: string): Promise<{ child: ChildProcess; waitFor: (text: string) => Promise<void> }> {
  writePlan(PLAN, dir);
  const child = spawnRollout(dir);
  const { waitFor } = stderrOf(child);
  await waitFor('stage_started');
  return { child, waitFor };
}

/** What `status --json` says once state.json shows the phase (it follows the journal by one async write). */
async function statusOnceIn(dir: string, phase: string): Promise<Record<string, unknown>> {
  const status = async () => JSON.parse((await runCli(['status', '--json'], { cwd: dir })).stdout) as Record<string, unknown>;
  const watcher = watch(path.join(dir, '.bluegreen'));
  try {
    for (;;) {
      const changed = once(watcher, 'change');
      const current = await status();
      if (current.phase === phase) return current;
      await changed;
    }
  } finally {
    watcher.close();
  }
}

describe('control commands', () => {
  it('pause, resume and abort act on the running rollout and are journaled with the user', async () => {
    const dir = tempDir();
    const { child, waitFor } = await startRollout(dir);
    const env = { USER: 'dana' };
    const pause = await runCli(['pause'], { cwd: dir, env });
    expect(pause.code).toBe(0);
    expect(pause.stdout).toContain('pause requested for rollout "control-test"');
    await waitFor('paused by dana@');
    expect(await statusOnceIn(dir, 'paused')).toMatchObject({ phase: 'paused', stageIndex: 0 });
    await runCli(['resume'], { cwd: dir, env });
    await waitFor('resumed by dana@');
    await runCli(['abort'], { cwd: dir, env });
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(4);
    const events = journal(dir);
    for (const type of ['paused', 'resumed', 'abort_requested']) {
      const event = events.find((e) => e.type === type);
      expect(event?.actor, type).toMatch(/^dana@.+ \(pid \d+\)$/);
      expect(event?.at).toBeGreaterThan(0);
    }
    expect(JSON.parse((await runCli(['status', '--json'], { cwd: dir })).stdout)).toMatchObject({ phase: 'aborted', exitCode: 4, greenWeight: 0 });
  });

  it('promote finishes the rollout at 100% with exit 0', async () => {
    const dir = tempDir();
    const { child } = await startRollout(dir);
    await runCli(['promote'], { cwd: dir });
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(JSON.parse((await runCli(['status', '--json'], { cwd: dir })).stdout)).toMatchObject({ phase: 'promoted', greenWeight: 1 });
    // Nothing left to steer: the answer says how the last rollout ended.
    const late = await runCli(['abort'], { cwd: dir });
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/no rollout is running in .*: the last one \(plan "[^"]+"\) has finished \(promoted at \d{4}-/);
  });

  it('says clearly when no rollout is running', async () => {
    const result = await runCli(['pause'], { cwd: tempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no rollout is running in/);
  });
});
