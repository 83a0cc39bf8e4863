// docs/api.md's example, run as written (from the repository, where `bluegreen` resolves to this package).
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { simulatedStagesPlan, tempDir } from '../helpers/plans.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

function exampleFromDocs(): string {
  const doc = readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8');
  const match = /```js\n([\s\S]*?)```/.exec(doc);
  if (!match?.[1]) throw new Error('docs/api.md has no js example');
  return match[1];
}

function shortPlan(dir: string, name: string, stages: { duration: string; weight: number }[]): string {
  const file = path.join(dir, 'plan.yaml');
  writeFileSync(file, simulatedStagesPlan(name, stages));
  return file;
}

describe('the library API', () => {
  it("docs/api.md's example runs as written on a short plan and ends promoted", async () => {
    // The example with only its plan path swapped for a plan short enough for a test.
    const example = exampleFromDocs().replace("'rollouts/demo.yaml'", 'process.env.PLAN');
    expect(example).toContain('process.env.PLAN');
    const dir = tempDir();
    const plan = shortPlan(dir, 'api-example', [
      { duration: '300ms', weight: 0.5 },
      { duration: '300ms', weight: 1 },
    ]);
    // As an installed package: node_modules/bluegreen in the example's folder is this repository.
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(ROOT, path.join(dir, 'node_modules/bluegreen'), 'dir');
    const script = path.join(dir, 'rollout-from-code.mjs');
    writeFileSync(script, example);
    const { stdout } = await run(process.execPath, [script], { cwd: dir, env: { ...process.env, PLAN: plan } });
    expect(stdout).toContain('stage 1/2 started');
    expect(stdout).toContain('promoted (exit 0) promoted');
    const state = JSON.parse(readFileSync(path.join(dir, '.bluegreen-api/state.json'), 'utf8'));
    expect(state.phase).toBe('promoted');
  });

  it('an aborted signal ends the rollout on blue with exit 4', async () => {
    const { rollout } = await import('../../src/index.js');
    const dir = tempDir();
    const plan = shortPlan(dir, 'api-abort', [{ duration: '1h', weight: 0.5 }]);
    const controller = new AbortController();
    const result = await rollout({
      plan,
      cwd: dir,
      stateDir: path.join(dir, 'state'),
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'stage_started') controller.abort();
      },
    });
    expect(result.exitCode).toBe(4);
    expect(result.snapshot.phase).toBe('aborted');
    expect(result.snapshot.greenWeight).toBe(0);
  });
});
