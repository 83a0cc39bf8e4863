// A rollout killed (kill -9) between its journal's first line and its first state.json: status and rollback said
// "no rollout state" (exit 2). Nothing moves before that record, so they now say it died before it, that traffic is
// on blue, and status exits 5 (died unfinished) until `bluegreen rollback` marks it ended, moving nothing.
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockOwner } from '../../src/cli/operator.js';
import { StateStore } from '../../src/state/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';

const STARTED_AT = Date.UTC(2026, 0, 2, 3, 4, 5);

/** A folder whose journal has the rollout's first line (and `more` after it) and no state.json. */
function journalOnly(more: object[] = []): string {
  const dir = tempDir();
  const line = { at: STARTED_AT, type: 'rollout_started', stage: 0, greenWeight: 0, message: 'rollout "demo" started: a (blue) -> b (green), 2 stages' };
  appendFileSync(path.join(dir, 'events.jsonl'), [line, ...more].map((event) => `${JSON.stringify(event)}\n`).join(''));
  return dir;
}

describe('a rollout killed before its first state.json', () => {
  it('status says it died before its first record with traffic on blue (exit 5), until rollback marks it ended', async () => {
    const dir = journalOnly();
    const status = await runCli(['status', '--state-dir', dir], { cwd: dir });
    expect(status.code).toBe(5);
    const said = 'the rollout of plan "demo" started at 2026-01-02T03:04:05.000Z and died before its first record; nothing moved: traffic is on blue';
    expect(status.stdout).toBe(`${said}\n`);
    // The control commands say the same, exit 5 (they said "no rollout is running", exit 2).
    const pause = await runCli(['pause', '--state-dir', dir], { cwd: dir });
    expect(pause.code).toBe(5);
    expect(pause.stderr).toBe(`bluegreen: ${said}: run bluegreen rollback to mark it ended\n`);
    const rollback = await runCli(['rollback', '--state-dir', dir], { cwd: dir });
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toBe(`${said}; nothing to roll back\n`);
    const after = await runCli(['status', '--state-dir', dir, '--json'], { cwd: dir });
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ unrecorded: true, plan: 'demo', orphaned: false, finished: { type: 'finished' } });
    // Safe to run twice.
    expect((await runCli(['rollback', '--state-dir', dir], { cwd: dir })).code).toBe(0);
    expect((await runCli(['pause', '--state-dir', dir], { cwd: dir })).code).toBe(2);
  });

  it('says one whose process still runs is starting, and rollback leaves it to bluegreen abort', async () => {
    const dir = journalOnly();
    const lock = new StateStore(dir).acquireLock(lockOwner('demo', STARTED_AT, {}));
    try {
      const status = await runCli(['status', '--state-dir', dir], { cwd: dir });
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`(pid ${process.pid}) started at 2026-01-02T03:04:05.000Z is starting`);
      const rollback = await runCli(['rollback', '--state-dir', dir], { cwd: dir });
      expect(rollback.code).toBe(2);
      expect(rollback.stderr).toContain('stop it with: bluegreen abort');
    } finally {
      lock.release();
    }
  });

  it('is not said of a rollout whose journal goes on past its start: its state.json was written, and removed since (review24)', async () => {
    // An on_stage hook ran and stage 1 began, as they do only after the first state.json: "nothing moved" would be false.
    const dir = journalOnly([
      { at: STARTED_AT + 1000, type: 'hook_succeeded', stage: 0, greenWeight: 0.1, message: 'on_stage hook succeeded' },
      { at: STARTED_AT + 1001, type: 'stage_started', stage: 0, greenWeight: 0.1, message: 'stage 1/2 started at 10% green' },
    ]);
    const status = await runCli(['status', '--state-dir', dir], { cwd: dir });
    expect(status.stdout + status.stderr).not.toContain('nothing moved');
    const rollback = await runCli(['rollback', '--state-dir', dir], { cwd: dir });
    expect(rollback.code).toBe(2);
    expect(rollback.stdout + rollback.stderr).not.toContain('nothing moved');
  });
});
