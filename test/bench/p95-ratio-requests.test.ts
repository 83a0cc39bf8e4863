// bench/tools/p95-ratio-requests.js measures the requests per arm plan.md's p95 ratio table gives: each cell's
// answers are checked against the rule itself (compareLatency) in the tool, so a short run that ends with every
// cell printed is a run whose figures are the rule's own; bad arguments exit 2 before any stream runs, and before
// dist/ is loaded (a refusal need not wait for it).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadsOf, NAMING_LOADS, runScript, type ScriptRun } from './run-script.js';

const SCRIPT = path.resolve('bench/tools/p95-ratio-requests.js');

function tool(args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  return runScript(SCRIPT, args, env);
}

describe('bench/tools/p95-ratio-requests.js', () => {
  it('prints every cell (3 multiples to breach, green = blue to read ok, at 3 alphas), the rule agreeing with each', async () => {
    const run = await tool(['3']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const cells = run.stdout.split('\n').filter((line) => / requests per arm$/.test(line));
    expect(cells).toHaveLength(12);
    for (const alpha of ['0.01', '0.002', '0.0005']) {
      for (const cell of ['breach at green 2x', 'breach at green 3x', 'breach at green 5x', 'ok at green 1x']) {
        expect(cells.filter((line) => line.startsWith(`${cell} blue vs a 1.5x limit, alpha ${alpha}: median `))).toHaveLength(1);
      }
    }
  });

  it.each([['0'], ['2.5'], ['3', '1']])('refuses %s with exit 2 and its usage, before it loads dist/', async (...args) => {
    const run = await tool(args, { NODE_OPTIONS: NAMING_LOADS });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const { loaded, stderr } = loadsOf(run.stderr);
    expect(stderr).toContain('usage: node bench/tools/p95-ratio-requests.js [STREAMS=201');
    // The hook saw the tool's own modules: it named what was loaded.
    expect(loaded).toContain(pathToFileURL(path.resolve('bench/lib/args.js')).href);
    expect(loaded.filter((url) => url.includes('/dist/'))).toEqual([]);
  });
});
