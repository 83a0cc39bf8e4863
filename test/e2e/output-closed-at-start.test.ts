// A rollout whose stderr reader is gone before it starts (`bluegreen rollout … 2>&1 | head -0`, a CI log pipe that
// died) and that has a warning of its start to say (here: the sampled file's skipped line): nobody would watch the
// rollout, so it stops at that first write: exit 129 (as a hangup), back on blue, no stage run. Before, the write's
// EPIPE during the start-up was heard by nothing; the rollout started, and stopped only at its next write. Since
// start warnings are journaled (c380ed2: the dashboard shows them) the warning is written just after the rollout
// starts, not before: the rollout starts and is interrupted at once, back on blue (its on_rollback runs), where it
// did not start.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';
import { BIN, exitOf, hookLog, journal, loggingPlan } from './helpers.js';

const LINE = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] });

it('a rollout whose stderr is closed before it starts stops at its start warning: exit 129, back on blue, no stage run', async () => {
  const dir = tempDir();
  loggingPlan(dir);
  const planFile = path.join(dir, 'plan.yaml');
  writeFileSync(planFile, readFileSync(planFile, 'utf8').replace('traffic: { rate: 20 }', 'traffic: { rate: 20, sampled: { file: s.jsonl } }'));
  writeFileSync(path.join(dir, 's.jsonl'), `${LINE}\n{broken\n${LINE}\n`);
  // The shell waits for a line on stdin before it becomes the rollout: the stderr pipe's read end is closed by then,
  // whichever process is quicker.
  const child = killAfterTest(
    spawn('/bin/sh', ['-c', `read go && exec "${process.execPath}" "${BIN}" rollout plan.yaml --plain`], {
      cwd: dir,
      env: { ...process.env, CI: '' },
      stdio: ['pipe', 'ignore', 'pipe'],
    }),
  );
  const stderr = child.stderr;
  if (stderr === null) throw new Error('no stderr pipe');
  stderr.destroy();
  await once(stderr, 'close');
  child.stdin?.end('go\n');
  const { code } = await exitOf(child);
  expect(code).toBe(129);
  expect(hookLog(dir)).toEqual(['rollback 0']);
  const types = journal(dir).map((event) => event.type);
  expect(types).not.toContain('stage_passed');
  expect(journal(dir).at(-1)).toMatchObject({ type: 'finished', data: { phase: 'interrupted', exitCode: 129 } });
});
