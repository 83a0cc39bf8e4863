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

  it('says at once that arms of two dialects cannot be proxied, rather than ask for `proxy: {}` the plan check then refuses', async () => {
    const dir = tempDir();
    // rollouts/anthropic.yaml's shape: an OpenAI blue, a Claude green.
    const plan = scriptedPlan('http://127.0.0.1:9/v1').replace(
      'green: { model: green-model }',
      'green: { model: claude-green, upstream: { base_url: http://127.0.0.1:9, api: anthropic, api_key_env: UPSTREAM_KEY } }',
    );
    const file = writePlan(plan, dir);
    const run = await runCli(['proxy', file, '--listen', '127.0.0.1:0'], { cwd: dir, env: { UPSTREAM_KEY } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${file} has no proxy block, and its arms speak different APIs (blue openai, green anthropic), which \`bluegreen proxy\` does not translate between: roll this change out on generated traffic (\`bluegreen rollout ${file}\`)`,
    );
    expect(run.stderr).not.toContain('Add `proxy: {}`');
  });
});
