// bench/verdicts.js runs for many minutes: --help prints its flags and exits 0, and a mistyped flag exits 2
// naming it, both before any row runs (without the check, either would start the whole benchmark); each row logs its
// table figures as it ends.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript, type ScriptRun } from './run-script.js';

const SCRIPT = path.resolve('bench/verdicts.js');

function verdicts(args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  return runScript(SCRIPT, args, env);
}

describe('bench/verdicts.js flags', () => {
  it('--help lists every flag, one line each, and exits 0 without running a row', async () => {
    const run = await verdicts(['--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--quick', '--ratio', '--session11', '--session12', '--session16', '--session27', '--session29', '--help']) {
      expect(run.stdout.split('\n').filter((line) => line.trimStart().startsWith(flag))).toHaveLength(1);
    }
    expect(run.stderr).toBe('');
  });

  it('an unknown flag exits 2 naming it', async () => {
    const run = await verdicts(['--quick', '--sesion29']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('unknown argument "--sesion29"');
    expect(run.stderr).toContain('--session29');
  });

  it("logs each row's table figures as it ends, so a run killed later keeps them", async () => {
    // One short row (20 seeded rollouts of a green failing 10x): every one is rolled back, by either judge.
    const run = await verdicts([], { BENCH_VERDICT_ROLLOUTS: '40', BENCH_VERDICT_MATCH: '^errors 10x \\(20%\\) \\(20 req/s' });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /^ {2}errors 10x \(20%\) \(20 req\/s, 5 x 12 s\): new 100% rolled back \(median \/ p95: \d+ \/ \d+ green requests, \d+ \/ \d+ failures, [\d.]+ \/ [\d.]+ s\), old 100% rolled back \(median/m,
    );
  });
});
