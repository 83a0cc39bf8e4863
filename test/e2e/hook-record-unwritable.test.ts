// The running hook's record (hook.json) only helps recovery after a kill -9: when it cannot be written (a full disk,
// the state folder's file replaced), the hooks still run. They move the traffic; a rollback whose on_rollback never
// ran would leave a hook-driven rollout's traffic on green. (review10: the record written as a hook starts, added
// this session, threw before the hook ran, where the older record, written after the spawn, was allowed to fail.)
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/plans.js';
import { exitOf, hookLog, journalHas, loggingPlan, readState, startRollout } from './helpers.js';
import { until } from '../helpers/until.js';

it('runs on_stage and on_rollback when hook.json cannot be written', async () => {
  const dir = tempDir();
  loggingPlan(dir);
  // A directory where the record goes: every write of it fails (EISDIR), as on a full disk (ENOSPC).
  mkdirSync(path.join(dir, '.bluegreen', 'hook.json'), { recursive: true });
  const child = startRollout(dir);
  await until(journalHas(dir, 'stage_started'), 'stage 1');
  child.kill('SIGTERM');
  expect((await exitOf(child)).code).toBe(143);
  expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
  expect(readState(dir)).toMatchObject({ phase: 'interrupted', exitCode: 143, greenWeight: 0 });
});
