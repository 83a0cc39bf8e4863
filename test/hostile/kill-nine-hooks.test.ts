// orphan17: kill -9 of a rollout (generated traffic, real processes) while one of its ending hooks runs, which
// test/e2e/recovery.test.ts (on_stage) did not reach: its own on_rollback after a breach, its on_promote. Then what
// an operator runs: status, bluegreen rollback, a new rollout of the same plan. And a recovery whose on_rollback
// fails: status must not say green is at 0% then.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { isAlive } from '../helpers/processes.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { BIN, exitOf, hookLog, journal, journalHas, readState, stderrOf } from '../e2e/helpers.js';

const KEY = 'sk-kill-nine-secret-0123456789';
const env = { UPSTREAM_API_KEY: KEY };

/** `bluegreen rollout plan.yaml --plain` in `dir`, with the upstream key (the simulator does not check it). */
function startRollout(dir: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'rollout', 'plan.yaml', '--plain'], {
    cwd: dir,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** A plan on the simulator (green failing when `failingGreen`) whose hooks log what they set to hook.log. */
function plan(dir: string, hooks: string, options: { failingGreen?: boolean; stages?: string[] } = {}): void {
  const stages = options.stages ?? ['{ duration: 60s, green_weight: 0.5 }', '{ duration: 60s, green_weight: 1 }'];
  writeFileSync(
    path.join(dir, 'plan.yaml'),
    `name: kill-nine
upstream:
  api_key_env: UPSTREAM_API_KEY
  simulate: { seed: 1, models: { a: { latency: { p50: 5ms, p95: 10ms } }, b: { latency: { p50: 5ms, p95: 10ms }${options.failingGreen ? ', error_rate: 1' : ''} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 40 }
analysis: { thresholds: { consecutive_errors: 3 }, on_unjudged: promote }
stages:
${stages.map((stage) => `  - ${stage}`).join('\n')}
hooks:
  on_stage: { exec: 'echo "stage $BLUEGREEN_GREEN_WEIGHT" >> hook.log' }
${hooks}
`,
  );
}

/** A shell command that, the first time only, writes its pid to `file` and waits (the kill lands meanwhile). */
const waitsOnce = (file: string, then: string) => `[ -e ${file} ] || { echo $$ > ${file}; sleep 60; }; ${then}`;

function pidIn(dir: string, file: string): () => boolean {
  return () => existsSync(path.join(dir, file)) && /^\d+\s*$/.test(readFileSync(path.join(dir, file), 'utf8'));
}

async function killRollout(dir: string, when: () => boolean, what: string): Promise<void> {
  const child = startRollout(dir);
  await until(when, what);
  child.kill('SIGKILL');
  expect((await exitOf(child)).signal).toBe('SIGKILL');
}

function noSecretIn(...texts: string[]): void {
  for (const text of texts) expect(text).not.toContain(KEY);
}

it('killed during its own on_rollback after a breach: status says it died rolling back, green may still be at the stage weight; rollback stops that hook and runs its own', async () => {
  const dir = tempDir();
  plan(dir, `  on_rollback: { exec: '${waitsOnce('rollback.pid', 'echo "rollback $BLUEGREEN_GREEN_WEIGHT" >> hook.log')}', timeout: 90s }`, {
    failingGreen: true,
  });
  const started = startRollout(dir);
  const output = stderrOf(started);
  await until(pidIn(dir, 'rollback.pid'), "the rollout's on_rollback to start");
  started.kill('SIGKILL');
  await exitOf(started);
  const hookPid = Number(readFileSync(path.join(dir, 'rollback.pid'), 'utf8'));
  expect(isAlive(hookPid)).toBe(true);

  const status = await runCli(['status'], { cwd: dir });
  expect(status.code).toBe(5);
  // state.json already said rolled_back (and green 0) when the hook began: neither is where traffic is yet.
  expect(status.stdout).toContain('rollout kill-nine: orphaned (its process died while rolling back)');
  expect(status.stdout).toContain('green at 0% or still 50% (its rollback hook putting traffic back on blue was running when it died, and still runs)');

  const rollback = await runCli(['rollback'], { cwd: dir, env });
  expect(rollback.code, rollback.stderr).toBe(0);
  expect(rollback.stderr).toMatch(/stopped the on_rollback hook \(process group \d+\) left running by the dead rollout/);
  expect(isAlive(hookPid)).toBe(false);
  expect(hookLog(dir)).toEqual(['stage 0.5', 'rollback 0']);
  expect(readState(dir)).toMatchObject({ phase: 'rolled_back', exitCode: 5, greenWeight: 0 });
  // Why it was rolling back: from state.json, or (when state.json was still a write behind) the journal's line.
  expect(String(readState(dir).reason)).toMatch(/while it was rolling back \((green consecutive_errors 3 >= 3|rolling back to blue on consecutive_errors)/);
  const after = await runCli(['status'], { cwd: dir });
  expect(after.code).toBe(0);
  noSecretIn(output.text(), status.stdout, status.stderr, rollback.stdout, rollback.stderr, readFileSync(path.join(dir, '.bluegreen', 'events.jsonl'), 'utf8'));
});

it('killed during on_promote: a new rollout of the same plan stops that hook before it finishes, puts traffic on blue, then starts over', async () => {
  const dir = tempDir();
  plan(
    dir,
    `  on_rollback: { exec: 'echo "rollback $BLUEGREEN_GREEN_WEIGHT" >> hook.log' }
  on_promote: { exec: '${waitsOnce('promote.pid', 'echo promoted >> hook.log')}', timeout: 90s }`,
    { stages: ['{ duration: 300ms, green_weight: 0.5 }', '{ duration: 300ms, green_weight: 1 }'] },
  );
  await killRollout(dir, pidIn(dir, 'promote.pid'), 'on_promote to start');
  const hookPid = Number(readFileSync(path.join(dir, 'promote.pid'), 'utf8'));
  const status = await runCli(['status'], { cwd: dir });
  expect(status.code).toBe(5);
  expect(status.stdout).toContain('green at 100% (its promote hook moving all traffic to green was running when it died, and still runs)');

  // The same plan again (its stages long now, so it is still in its first when stopped).
  plan(dir, `  on_rollback: { exec: 'echo "rollback $BLUEGREEN_GREEN_WEIGHT" >> hook.log' }`);
  const again = startRollout(dir);
  const said = stderrOf(again);
  await until(() => hookLog(dir).length === 4, "the new rollout's first on_stage");
  expect(isAlive(hookPid)).toBe(false);
  expect(hookLog(dir)).toEqual(['stage 0.5', 'stage 1', 'rollback 0', 'stage 0.5']);
  await said.waitFor('stopped the on_promote hook');
  again.kill('SIGTERM');
  expect((await exitOf(again)).code).toBe(143);
  expect(hookLog(dir)).not.toContain('promoted');
  expect(journal(dir).at(-1)).toMatchObject({ type: 'finished', data: { phase: 'interrupted', exitCode: 143 } });
});

// Before: the recovery journaled its hook's outcome (and each proxy's) at green 0, and status and the orphan message
// take the journal's latest weight as the rollout's: after an on_rollback that failed, they said "green 0%" of a
// rollout killed at 100%.
it('a recovery whose on_rollback fails leaves status saying where green was, not 0%', async () => {
  const dir = tempDir();
  plan(dir, `  on_rollback: { exec: 'exit 3', retries: 0 }`, { stages: ['{ duration: 300ms, green_weight: 0.5 }', '{ duration: 60s, green_weight: 1 }'] });
  await killRollout(dir, () => journal(dir).filter((event) => event.type === 'stage_started').length === 2, 'stage 2');
  const rollback = await runCli(['rollback'], { cwd: dir, env });
  expect(rollback.code).toBe(5);
  expect(rollback.stderr).toContain('on_rollback failed (exec exit 3 exited 3); traffic may not be on blue, and the rollout is still marked unfinished');
  const status = await runCli(['status'], { cwd: dir });
  expect(status.code).toBe(5);
  expect(status.stdout).toContain('stage 2/2, green 100% / blue 0%');
  expect(status.stderr).toContain('at stage 2/2 with green at 100%; traffic may not be on blue');
  expect(journalHas(dir, 'hook_failed')()).toBe(true);
});
