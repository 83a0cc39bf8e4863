// A stage's green share reads as the plan wrote it wherever it is shown (found by hostile18): a 0.5% canary read "1%"
// in validate, --dry-run, status, the dashboard and the reports, 0.2% read "0%" (no green at all, while green took
// requests), and 99.5% read "100%", while the journal's own lines said "0.5% green".
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { stageTableLines } from '../../src/report/ink/stage-table.js';
import { runCli } from '../helpers/cli.js';
import { simulatedStagesPlan, tempDir, writePlan } from '../helpers/plans.js';

const STAGES = [
  { duration: '1s', weight: 0.002 },
  { duration: '1s', weight: 0.005 },
  { duration: '1s', weight: 0.995 },
  { duration: '1s', weight: 1 },
];

/** The green column of the schedule or stage table rows printed by validate, --dry-run and status. */
const shares = (text: string): string[] => [...text.matchAll(/^\s+\d\s+(\d[\d.]*%)\s/gm)].map((match) => match[1] as string);

it('validate, --dry-run, status, the dashboard and the step summary show 0.2%, 0.5% and 99.5% as written', async () => {
  const dir = tempDir();
  const file = writePlan(simulatedStagesPlan('canary', STAGES), dir);
  const written = ['0.2%', '0.5%', '99.5%', '100%'];

  const validate = await runCli(['validate', file], { cwd: dir });
  expect(shares(validate.stdout)).toEqual(written);
  const dry = await runCli(['rollout', file, '--dry-run'], { cwd: dir });
  expect(shares(dry.stdout)).toEqual(written);

  const report = path.join(dir, 'report.json');
  const summary = path.join(dir, 'summary.md');
  const run = await runCli(['rollout', file, '--plain', '--report-json', report], { cwd: dir, env: { ...process.env, GITHUB_STEP_SUMMARY: summary } });
  expect(run.code).toBe(0);
  const status = await runCli(['status'], { cwd: dir });
  expect(shares(status.stdout)).toEqual(written);

  const snapshot = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
  const table = stageTableLines(snapshot, 10, 120).map((line) => line.map((segment) => segment.text).join(''));
  expect(table.slice(2).map((row) => /^.\d\s+(\S+%)/.exec(row)?.[1])).toEqual(written);
  expect([...readFileSync(summary, 'utf8').matchAll(/^\| \d \| ([\d.]+%) \|/gm)].map((match) => match[1])).toEqual(written);
});
