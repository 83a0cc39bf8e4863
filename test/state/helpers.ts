// Shared fixtures for the state tests: temp folders, a valid snapshot, the pid of a process that is gone, a thrown error.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RolloutEvent, RolloutSnapshot } from '../../src/engine/types.js';
import { hookRecorder } from '../../src/state/hook-record.js';
import { closeAfterTest } from '../helpers/close-after-test.js';

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-state-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A dead rollout's on_stage hook left running in its own process group, recorded in `dir`'s hook.json as the rollout
 * records it (the rollout of `plan`, pid `pid`): `script` runs once it said it is ready. Its group is killed when the
 * test ends. Returns the group.
 */
export async function orphanHook(dir: string, script: string, rollout: { plan: string; pid: number } = { plan: 'demo', pid: 4242 }): Promise<number> {
  const hook = spawn('sh', ['-c', script], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { PATH: process.env.PATH, BLUEGREEN_PLAN: rollout.plan },
  });
  closeAfterTest({
    close: async () => {
      try {
        process.kill(-(hook.pid as number), 'SIGKILL');
      } catch {
        // Stopped already (the test's recovery did).
      }
    },
  });
  await once(hook.stdout, 'data');
  const record = hookRecorder(dir, { plan: rollout.plan, event: 'stage', stage: 2, greenWeight: 0.5, pid: rollout.pid, hook: 'on_stage' });
  record.begin();
  record.started(hook.pid as number);
  return hook.pid as number;
}

/** A pid that was real a moment ago and is now free (the child has exited and been reaped). */
export function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => (child.pid === undefined ? reject(new Error('no pid')) : resolve(child.pid)));
  });
}

export function snapshot(overrides: Partial<RolloutSnapshot> = {}): RolloutSnapshot {
  // As many stages as the snapshot's stage needs: a stage past the plan's last is a bad state.json.
  const stages = Array.from({ length: (overrides.stageIndex ?? 0) + 1 }, () => ({ durationMs: 1000, greenWeight: 0.1 }));
  return {
    version: 1,
    plan: { name: 'demo', file: '/plans/demo.yaml', hash: 'abc', blueModel: 'gpt-4o', greenModel: 'gpt-4.1', stages },
    pid: process.pid,
    phase: 'progressing',
    startedAt: 1_700_000_000_000,
    updatedAt: 1_700_000_001_000,
    stageIndex: 0,
    stageElapsedMs: 1000,
    greenWeight: 0.1,
    stages: [],
    checks: [],
    window: {} as RolloutSnapshot['window'],
    greenErrorTrend: [],
    recentEvents: [],
    ...overrides,
  };
}

export function event(at: number, message = `event at ${at}`): RolloutEvent {
  return { at, type: 'warning', message };
}

/** The error `fn` throws (failing the test when it throws none), for assertions on its class and fields. */
export function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
