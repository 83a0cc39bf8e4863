// `rollout --dry-run --resume` ignored --resume: it said nothing of the dead rollout a real run would take over,
// and passed (exit 0) where the real run refuses (no rollout to resume, another plan, one that died ending).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadPlan } from '../../src/plan/load.js';
import { runCli } from '../helpers/cli.js';
import { simulatedStagesPlan, tempDir, writePlan } from '../helpers/plans.js';
import { deadPid, snapshot } from '../state/helpers.js';

const STAGES = [
  { duration: '60s', weight: 0.25 },
  { duration: '60s', weight: 0.5 },
  { duration: '60s', weight: 1 },
];

/** A folder whose rollout of plan.yaml died at stage 2 (`ending` adds the start of a rollback to its journal). */
async function deadRollout(options: { ending?: boolean } = {}): Promise<{ dir: string; pid: number }> {
  const dir = tempDir();
  const file = writePlan(`${simulatedStagesPlan('resumable', STAGES)}hooks:\n  on_stage: { exec: 'echo "$BLUEGREEN_GREEN_WEIGHT" >> hook.log' }\n`, dir);
  const plan = loadPlan(file, dir);
  const pid = await deadPid();
  const state = snapshot({
    plan: {
      name: plan.name,
      file,
      hash: plan.source.hash,
      blueModel: 'a',
      greenModel: 'b',
      stages: STAGES.map((s) => ({ durationMs: 60_000, greenWeight: s.weight })),
    },
    pid,
    stageIndex: 1,
    greenWeight: 0.5,
  });
  mkdirSync(path.join(dir, '.bluegreen'));
  writeFileSync(path.join(dir, '.bluegreen', 'state.json'), JSON.stringify(state));
  const events = [
    { at: state.startedAt, type: 'rollout_started', message: 'rollout started' },
    ...(options.ending
      ? [{ at: state.updatedAt, type: 'rolled_back', stage: 1, greenWeight: 0.5, message: 'rolling back to blue: green error_rate 0.3 > 0.05' }]
      : []),
  ];
  writeFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return { dir, pid };
}

const dryResume = (dir: string) => runCli(['rollout', 'plan.yaml', '--dry-run', '--resume'], { cwd: dir });

it('says where a resume would go on from, and changes nothing', async () => {
  const { dir, pid } = await deadRollout();
  const before = readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8');
  const result = await dryResume(dir);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain(
    `--resume: would go on from stage 2/3 of the rollout of plan "resumable" (pid ${pid} died), its figures so far kept; its on_stage hook runs again`,
  );
  expect(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')).toBe(before);
  expect(() => readFileSync(path.join(dir, 'hook.log'))).toThrow();
});

it('refuses (exit 2) as the real run would: nothing to resume, another plan, a rollout that died ending', async () => {
  const empty = tempDir();
  writePlan(simulatedStagesPlan('resumable', STAGES), empty);
  const none = await dryResume(empty);
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/^bluegreen: --resume: there is no unfinished rollout to resume in .*\.bluegreen \(no state\)\n$/);

  const { dir } = await deadRollout();
  writePlan(`${simulatedStagesPlan('resumable', STAGES.slice(0, 2))}`, dir);
  const other = await dryResume(dir);
  expect(other.code).toBe(2);
  expect(other.stderr).toContain('is not the plan the dead rollout ran');
  // The same words as the real run's refusal.
  const real = await runCli(['rollout', 'plan.yaml', '--resume', '--plain'], { cwd: dir });
  expect(real.code).toBe(2);
  expect(real.stderr).toBe(other.stderr);

  const ending = await deadRollout({ ending: true });
  const refused = await dryResume(ending.dir);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(
    '--resume: the rollout that died was already ending (rolling back to blue: green error_rate 0.3 > 0.05); it cannot be resumed',
  );
});

// Found by hostile13: without --resume, a dry run on a folder whose rollout died at 50% green said nothing of the
// rollback a real run does first (its on_rollback hook, its proxies told), which moves traffic.
it('without --resume, says a real run would first put the dead rollout back on blue, and runs nothing', async () => {
  const { dir, pid } = await deadRollout();
  const result = await runCli(['rollout', 'plan.yaml', '--dry-run'], { cwd: dir });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toContain(
    `first: the rollout of plan "resumable" (pid ${pid}) died without finishing, at stage 2/3 with green at 50%; a real run would put its traffic back on blue (as bluegreen rollback does): its on_stage hook (for on_rollback, which the plan has not) run, before its own first stage`,
  );
  expect(() => readFileSync(path.join(dir, 'hook.log'))).toThrow();
  expect(JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8'))).toMatchObject({ phase: 'progressing', pid });
});
