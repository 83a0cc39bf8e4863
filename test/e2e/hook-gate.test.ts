// A hook's command runs only once hook.json names its process group (src/hooks/exec.ts, the gate): a kill -9 of
// the rollout at any moment leaves a record that `bluegreen rollback` (or the next rollout) can stop the hook by.
// The on_stage hook here reads the record from inside itself, the first thing it does.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/plans.js';
import { exitOf, hookLog, loggingPlan, startRollout } from './helpers.js';
import { until } from '../helpers/until.js';

it("finds hook.json holding its own process group when an on_stage hook's command starts", async () => {
  const dir = tempDir();
  // set-weight.sh runs in a child shell of the hook's: its process group (the fifth field of its stat) is the hook's.
  loggingPlan(dir, { stageHookDelay: '/bin/cat .bluegreen/hook.json > seen-record.json; read -r _ _ _ _ group _ < /proc/$$/stat; echo $group > hook.pgid' });
  const child = startRollout(dir);
  await until(() => hookLog(dir).includes('stage 0.25'), 'the on_stage hook');
  child.kill('SIGTERM');
  expect((await exitOf(child)).code).toBe(143);
  const record = JSON.parse(readFileSync(path.join(dir, 'seen-record.json'), 'utf8')) as Record<string, unknown>;
  const group = Number(readFileSync(path.join(dir, 'hook.pgid'), 'utf8'));
  expect(record).toMatchObject({ pgid: group, plan: 'stop-test', event: 'stage', stage: 1, greenWeight: 0.25, pid: child.pid });
});
