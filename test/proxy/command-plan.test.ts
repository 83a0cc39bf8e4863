// `bluegreen proxy PLAN` wants a plan written for live traffic: without a proxy block it is a usage error
// saying what to add, not a proxy quietly serving blue that no rollout of the plan would ever move.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { scriptedPlan, UPSTREAM_KEY } from './helpers.js';

describe('bluegreen proxy on a plan without a proxy block', () => {
  it('exits 2 saying what to add', async () => {
    const dir = tempDir();
    const file = writePlan(scriptedPlan('http://127.0.0.1:9/v1'), dir);
    const run = await runCli(['proxy', file, '--listen', '127.0.0.1:0'], { cwd: dir, env: { UPSTREAM_KEY } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file} has no proxy block`);
    expect(run.stderr).toContain('Add `proxy: {}` for the defaults');
    expect(run.stderr).not.toContain('listening on');
  });
});
