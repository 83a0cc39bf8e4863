// Ctrl-Z (SIGTSTP) would stop a rollout with green still taking its share and nothing judging it; a hook-driven
// rollout would never go back to blue. The rollout stays running and says how to pause or stop it instead.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { exitOf, hookLog, journalHas, loggingPlan, readState, startRollout } from './helpers.js';
import { until } from '../helpers/until.js';

/** The process state letter from /proc (T: stopped). */
function processState(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] ?? '?';
}

describe('Ctrl-Z during a rollout', () => {
  it('is refused with a hint; the rollout keeps judging, and Ctrl-C still rolls back', async () => {
    const dir = tempDir();
    loggingPlan(dir);
    const child = startRollout(dir);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await until(journalHas(dir, 'stage_started'), 'stage 1');
    child.kill('SIGTSTP');
    await until(() => stderr.includes('Ctrl-Z ignored'), 'the hint');
    expect(processState(child.pid!)).not.toBe('T');
    // Still at work: state.json goes on being rewritten (every second).
    const before = readState(dir).updatedAt as number;
    await until(() => (readState(dir).updatedAt as number) > before, 'a later state.json');
    child.kill('SIGINT');
    expect((await exitOf(child)).code).toBe(130);
    expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
  });

  it('kill -STOP cannot be refused: status says the owner is stopped, not running', async () => {
    const dir = tempDir();
    loggingPlan(dir);
    const child = startRollout(dir);
    try {
      await until(journalHas(dir, 'stage_started'), 'stage 1');
      child.kill('SIGSTOP');
      await until(() => processState(child.pid!) === 'T', 'the stop');
      const status = await runCli(['status'], { cwd: dir });
      expect(status.stdout).toContain(`owner pid ${child.pid} is stopped (kill -STOP, Ctrl-Z): nothing judges green until it runs again`);
      const json = JSON.parse((await runCli(['status', '--json'], { cwd: dir })).stdout) as { ownerAlive: boolean; ownerStopped: boolean };
      expect(json).toMatchObject({ ownerAlive: true, ownerStopped: true });
    } finally {
      child.kill('SIGCONT');
    }
    child.kill('SIGINT');
    expect((await exitOf(child)).code).toBe(130);
  });
});
