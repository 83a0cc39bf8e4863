// A rollout that moved traffic and then lost its state.json (moved aside, deleted): status said "no rollout state"
// (exit 2), rollback "nothing to roll back", and a new rollout on the folder started without putting the dead one's
// traffic back on blue. Now status says traffic may be on green (exit 5), rollback --plan FILE recovers it from its
// journal, and a new rollout of the same plan recovers it first (another plan's is refused, exit 5).
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startWarnings } from '../helpers/cli.js';
import { simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';

const STARTED_AT = Date.UTC(2026, 0, 2, 3, 4, 5);
const HOOK = `hooks:\n  on_rollback: { exec: 'printf "%s %s" "$BLUEGREEN_STAGE" "$BLUEGREEN_GREEN_WEIGHT" > rolled-back.txt' }\n`;

/** A folder with a plan, and a state folder whose journal shows stage 1 begun at 50% green, and no state.json. */
function lostFolder(stageDuration = '10s'): { dir: string; stateDir: string; plan: string } {
  const dir = tempDir();
  const plan = writePlan(`${simulatedPlan('demo', stageDuration, 0.5)}${HOOK}`, dir);
  const stateDir = path.join(dir, '.bluegreen');
  mkdirSync(stateDir);
  const lines = [
    { at: STARTED_AT, type: 'rollout_started', stage: 0, greenWeight: 0, message: 'rollout "demo" started: a (blue) -> b (green), 2 stages' },
    { at: STARTED_AT + 1000, type: 'hook_succeeded', stage: 0, greenWeight: 0.5, message: 'on_stage hook succeeded' },
    { at: STARTED_AT + 1001, type: 'stage_started', stage: 0, greenWeight: 0.5, message: 'stage 1/2 started: 50% green for 10s' },
  ];
  appendFileSync(path.join(stateDir, 'events.jsonl'), lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  return { dir, stateDir, plan };
}

describe('a rollout that moved traffic and lost its state.json', () => {
  it('status says traffic may be on green (exit 5), also as JSON and with --watch, naming rollback --plan', async () => {
    const { dir, stateDir } = lostFolder();
    const status = await runCli(['status', '--state-dir', stateDir], { cwd: dir });
    expect(status.code).toBe(5);
    expect(status.stdout).toContain('the rollout of plan "demo" started at 2026-01-02T03:04:05.000Z moved traffic');
    expect(status.stdout).toContain('stage 1, green 50%');
    expect(status.stdout).toContain('traffic may be on green');
    expect(status.stderr).toContain(`run bluegreen rollback --state-dir ${stateDir} --plan FILE`);
    const json = await runCli(['status', '--state-dir', stateDir, '--json'], { cwd: dir });
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout)).toMatchObject({ lostRecord: true, plan: 'demo', orphaned: true, running: false });
    // It waited for a state.json that no process will write.
    const watched = await runCli(['status', '--state-dir', stateDir, '--watch', '--interval', '100'], { cwd: dir });
    expect(watched.code).toBe(5);
    // The control commands say the same, exit 5 (they said the folder's rollout was "no longer running", exit 2).
    const abort = await runCli(['abort', '--state-dir', stateDir], { cwd: dir });
    expect(abort.code).toBe(5);
    expect(abort.stderr).toContain(`traffic may be on green: run bluegreen rollback --state-dir ${stateDir} --plan FILE`);
  });

  it('rollback asks for its plan, refuses another plan, and with it runs on_rollback at 0% and marks it ended', async () => {
    const { dir, stateDir, plan } = lostFolder();
    const bare = await runCli(['rollback', '--state-dir', stateDir], { cwd: dir });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--plan FILE');
    const other = writePlan(simulatedPlan('other', '10s', 0.5), tempDir());
    const refused = await runCli(['rollback', '--state-dir', stateDir, '--plan', other], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('not the plan of the rollout whose record is lost, "demo"');
    expect(existsSync(path.join(dir, 'rolled-back.txt'))).toBe(false);

    const rollback = await runCli(['rollback', '--state-dir', stateDir, '--plan', plan], { cwd: dir });
    expect(rollback.stderr).toBe(
      'bluegreen: the rollout of plan "demo" died without finishing, at stage 1/2 with green at 50%; traffic may not be on blue; rolling back\n',
    );
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain('rolled back the rollout of plan "demo"');
    expect(readFileSync(path.join(dir, 'rolled-back.txt'), 'utf8')).toBe('1 0');
    const after = await runCli(['status', '--state-dir', stateDir, '--json'], { cwd: dir });
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ phase: 'rolled_back', greenWeight: 0, orphaned: false });
  });

  it('a new rollout of its plan puts it back on blue first; one of another plan is refused (exit 5)', async () => {
    const { dir, stateDir, plan } = lostFolder('1s');
    const other = writePlan(simulatedPlan('other', '1s', 0.5), tempDir());
    const refused = await runCli(['rollout', other, '--state-dir', stateDir, '--ci'], { cwd: dir });
    expect(refused.stderr).toContain('traffic may be on green; not starting a new rollout of another plan');
    expect(refused.code).toBe(5);
    expect(existsSync(path.join(dir, 'rolled-back.txt'))).toBe(false);

    const rollout = await runCli(['rollout', plan, '--state-dir', stateDir, '--ci'], { cwd: dir });
    expect(rollout.stderr).toContain('traffic may be on green; putting traffic back on blue before starting');
    expect(readFileSync(path.join(dir, 'rolled-back.txt'), 'utf8')).toBe('1 0');
    expect(rollout.code).toBe(0);
    // live32: said in the new journal, where the dashboard shows it, and not as "may be on green" any more.
    expect(startWarnings(stateDir).filter((warning) => warning.includes('put back on blue before this rollout started'))).toEqual([
      expect.stringMatching(
        / moved traffic .*with no ending in its journal: put back on blue before this rollout started \(on_rollback ran; traffic is back on blue\)$/,
      ),
    ]);
  });

  it('rollout --resume (and --dry-run --resume) refuses it, exit 5, naming rollback --plan: its figures went with the record', async () => {
    const { dir, stateDir, plan } = lostFolder();
    for (const extra of [[], ['--dry-run']]) {
      const resumed = await runCli(['rollout', plan, '--state-dir', stateDir, '--ci', '--resume', ...extra], { cwd: dir });
      expect(resumed.code).toBe(5);
      expect(resumed.stderr).toContain('traffic may be on green; --resume cannot go on from it');
      expect(resumed.stderr).toContain(`run bluegreen rollback --state-dir ${stateDir} --plan FILE with its plan, then start again`);
      expect(resumed.stderr).not.toContain('there is no unfinished rollout to resume');
    }
    expect(existsSync(path.join(dir, 'rolled-back.txt'))).toBe(false);
    expect(existsSync(path.join(stateDir, 'state.json'))).toBe(false);
  });

  // Before: --dry-run read only state.json, so it said nothing of the lost record and exited 0 for another plan,
  // whose real run is refused (exit 5).
  it('--dry-run stops where the real run does: another plan refused (exit 5), its own plan told what recovery comes first', async () => {
    const { dir, stateDir, plan } = lostFolder('1s');
    const other = writePlan(simulatedPlan('other', '1s', 0.5), tempDir());
    const refused = await runCli(['rollout', other, '--state-dir', stateDir, '--dry-run'], { cwd: dir });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('traffic may be on green; not starting a new rollout of another plan');

    const dryRun = await runCli(['rollout', plan, '--state-dir', stateDir, '--dry-run'], { cwd: dir });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(
      'first: the rollout of plan "demo" started at 2026-01-02T03:04:05.000Z moved traffic (its journal\'s last line: stage 1, green 50%)',
    );
    expect(dryRun.stdout).toContain('a real run would put its traffic back on blue (as bluegreen rollback does): its on_rollback hook run');
    // Read only: no hook ran, no record was written.
    expect(existsSync(path.join(dir, 'rolled-back.txt'))).toBe(false);
    expect(existsSync(path.join(stateDir, 'state.json'))).toBe(false);
  });
});
