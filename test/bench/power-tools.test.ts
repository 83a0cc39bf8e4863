// bench/tools/ratio-power.js and rate-power.js give the figures of docs/benchmarks-history.md's session 32 and 33 notes:
// each prints one line per variant, ratio-power.js checking its looks against the rule itself (compareLatency) and
// stopping if they disagree, so a short run that ends with every variant printed is a run of the rule's own
// answers; bad arguments exit 2 before any rollout runs, and before dist/ is loaded (a refusal need not wait for it).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadsOf, NAMING_LOADS, runScript, type ScriptRun } from './run-script.js';

function tool(name: string, args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  return runScript(path.resolve('bench/tools', name), args, env);
}

const RATIO_VARIANTS = ['engine', 'no-running', 'blue-known', 'green-known', 'sent-before', 'prefix', 'every-100ms', 'alpha/5', 'alpha/1', 'rollout-blue'];
const RATE_VARIANTS = ['bench', 'running', 'prefix', 'alpha/5', 'alpha/1', 'rollout-blue', 'rollout-green', 'split', 'from-stage', 'whole'];

describe('bench/tools/ratio-power.js and rate-power.js', () => {
  it('ratio-power.js prints every variant of a 2x regression, each catching it in the one rollout', async () => {
    const run = await tool('ratio-power.js', ['1', '2']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    for (const variant of RATIO_VARIANTS) expect(lines.filter((line) => line.startsWith(`${variant} `))).toEqual([expect.stringContaining('caught 100.0%')]);
  });

  it('rate-power.js prints every variant of the healthy case, none rolling back', async () => {
    const run = await tool('rate-power.js', ['1', 'healthy']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    for (const variant of RATE_VARIANTS) expect(lines.filter((line) => line.startsWith(`${variant} `))).toEqual([expect.stringContaining('caught 0.0%')]);
  });

  it('rate-power.js runs only the variants ONLY names, on a green bad from the 75% stage (session 33)', async () => {
    const run = await tool('rate-power.js', ['1', 'late', 'running,from-stage']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const variants = run.stdout
      .split('\n')
      .filter((line) => line.includes(' caught '))
      .map((line) => line.split(' ')[0]);
    expect(variants).toEqual(['running', 'from-stage']);
    expect(run.stdout).toContain('(1 rollouts, late,');
  });

  it.each([
    ['ratio-power.js', ['0']],
    ['ratio-power.js', ['2.5']],
    ['ratio-power.js', ['3', '-1']],
    ['ratio-power.js', ['3', '2', 'bogus']],
    ['rate-power.js', ['0']],
    ['rate-power.js', ['3', 'latency']],
  ])('%s refuses %j with exit 2, naming itself, before it loads dist/', async (name, args) => {
    const run = await tool(name, args, { NODE_OPTIONS: NAMING_LOADS });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const { loaded, stderr } = loadsOf(run.stderr);
    expect(stderr).toContain(`bench/tools/${name}`);
    // The hook saw the tool's own modules: it named what was loaded.
    expect(loaded).toContain(pathToFileURL(path.resolve('bench/lib/args.js')).href);
    expect(loaded.filter((url) => url.includes('/dist/'))).toEqual([]);
  });
});
