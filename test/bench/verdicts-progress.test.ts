// tests31b: bench/verdicts.js wrote its JSON only at its end, and a full run needs about 30 CPU minutes: bench/run.js
// killed it at its 40-minute limit on a loaded machine and kept nothing. Now it writes its results file ($BENCH_OUT)
// after each row, marked partial, written beside it and renamed over it (never half a file): a run killed before its
// end keeps the rows done. Tiny runs (a few rows of a few rollouts, BENCH_VERDICT_MATCH), killed as the second row
// logs: the first row's write came before the second row began.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const SCRIPT = path.resolve('bench/verdicts.js');
/** Two short rows (regressions rolled back at once), then a long one (30,000 requests a rollout) the kill cuts short. */
const THREE_ROWS = '^(errors 10x \\(20%\\)|100% failures) \\(20 req/s|^regression plan \\(100 req/s';
const FIRST_ROW = 'errors 10x (20%) (20 req/s, 5 x 12 s)';

interface VerdictsFile {
  partial?: boolean;
  targets?: unknown;
  regressedRollouts: number;
  healthy: { name: string }[];
  regressions: { name: string; rollouts: number; new: { rolledBackPercent: number } }[];
}

function verdicts(out: string, rollouts: number, match: string) {
  const env = { ...process.env, BENCH_OUT: out, BENCH_VERDICT_ROLLOUTS: String(rollouts), BENCH_VERDICT_MATCH: match };
  const child = killAfterTest(spawn(process.execPath, [SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'], env }));
  const logged = { rows: 0 };
  child.stderr.on(
    'data',
    (chunk: Buffer) =>
      (logged.rows += chunk
        .toString()
        .split('\n')
        .filter((line) => line.includes(' rolled back')).length),
  );
  return { child, logged };
}

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as VerdictsFile;

describe('bench/verdicts.js results file', () => {
  it('holds the rows done so far after each row, so a run killed before its end keeps them', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'verdicts.json');
    const { child, logged } = verdicts(out, 100, THREE_ROWS);
    await until(() => logged.rows >= 2, 'the second row to end');
    child.kill('SIGKILL');
    const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect(signal).toBe('SIGKILL');
    const kept = read(out);
    expect(kept.partial).toBe(true);
    expect(kept.targets).toBeUndefined();
    // The first row whole (the second's write may have come before the kill); the long row never ended.
    expect(kept.regressions[0]).toMatchObject({ name: FIRST_ROW, rollouts: 50, new: { rolledBackPercent: 100 } });
    expect(kept.regressions.length).toBeLessThanOrEqual(2);
    expect(kept.healthy).toEqual([]);
    expect(readdirSync(dir).filter((name) => name !== 'verdicts.json' && !name.endsWith('.tmp'))).toEqual([]);
  });

  it('ends with the whole result, not marked partial', async () => {
    const out = path.join(tempDir(), 'verdicts.json');
    const { child } = verdicts(out, 40, '^errors 10x \\(20%\\) \\(20 req/s');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const result = read(out);
    expect(result.partial).toBeUndefined();
    expect(result.targets).toBeDefined();
    expect(result.regressions.map((row) => row.name)).toEqual([FIRST_ROW]);
  });
});
