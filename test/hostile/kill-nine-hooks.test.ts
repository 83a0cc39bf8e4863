// orphan17: kill -9 of a rollout (generated traffic, real processes) while one of its ending hooks runs, which
// test/e2e/recovery.test.ts (on_stage) did not reach: its own on_rollback after a breach, its on_promote. Then what
// an operator runs: status, bluegreen rollback, a new rollout of the same plan. And a recovery whose on_rollback
// fails: status must not say green is at 0% then.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { isAlive, killAfterTest } from '../helpers/processes.js';
import { tempDir } from '../helpers/plans.js';
import { until } from '../helpers/until.js';
import { BIN, exitOf, hookLog, journal, journalHas, readState, stderrOf } from '../e2e/helpers.js';

const KEY = 'sk-kill-nine-secret-0123456789';
const env = { UPSTREAM_API_KEY: KEY };

/** `bluegreen rollout plan.yaml --plain` in `dir`, with the upstream key (the simulator does not check it). */
function startRollout(dir: string): ChildProcess {
  return killAfterTest(
    spawn(process.execPath, [BIN, 'rollout', 'plan.yaml', '--plain'], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
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
  // The journal says it too (loose18: stderr alone did), with who did it and no weight.
  const stoppedLine = journal(dir).find((event) => event.type === 'warning' && event.message.startsWith('stopped the on_rollback hook'));
  expect(stoppedLine).toMatchObject({ stage: 0, actor: expect.stringContaining('(bluegreen rollback)') as string });
  expect(stoppedLine?.greenWeight).toBeUndefined();
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
  // The dead run's journal (moved aside by the new rollout) says the hook was stopped, and by whom.
  const previous = readFileSync(path.join(dir, '.bluegreen', 'events.prev.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; message: string; actor?: string });
  expect(previous.find((event) => event.message.startsWith('stopped the on_promote hook'))).toMatchObject({
    type: 'warning',
    actor: expect.stringContaining('(bluegreen rollout)') as string,
  });
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

// loose18: the recovery removed hook.json before it ran, so once it failed (or was killed), status no longer said
// the rollout died promoting. Killed at each step of the recoveries that follow, it still ends on blue.
it('a rollout killed during on_promote, then recoveries killed or failing: status keeps saying it died promoting, the last one ends on blue', async () => {
  const dir = tempDir();
  // on_rollback: the first run waits (the recovery is killed meanwhile), the second fails, the third succeeds.
  const rollbackHook = `[ -e rb1.pid ] || { echo $$ > rb1.pid; sleep 60; }; [ -e rb2 ] || { touch rb2; exit 3; }; echo "rollback $BLUEGREEN_GREEN_WEIGHT" >> hook.log`;
  plan(
    dir,
    `  on_rollback: { exec: '${rollbackHook}', retries: 0, timeout: 90s }
  on_promote: { exec: '${waitsOnce('promote.pid', 'echo promoted >> hook.log')}', timeout: 90s }`,
    { stages: ['{ duration: 300ms, green_weight: 0.5 }', '{ duration: 300ms, green_weight: 1 }'] },
  );
  await killRollout(dir, pidIn(dir, 'promote.pid'), 'on_promote to start');
  const promotePid = Number(readFileSync(path.join(dir, 'promote.pid'), 'utf8'));
  const diedPromoting = 'green at 100% (its promote hook moving all traffic to green was running when it died';

  // 1. A rollback killed while its own on_rollback runs: it had stopped on_promote; both are said.
  const first = killAfterTest(spawn(process.execPath, [BIN, 'rollback'], { cwd: dir, env: { PATH: process.env.PATH, ...env }, stdio: 'ignore' }));
  await until(pidIn(dir, 'rb1.pid'), "the first recovery's on_rollback to start");
  expect(isAlive(promotePid)).toBe(false);
  first.kill('SIGKILL');
  await exitOf(first);
  const killed = await runCli(['status'], { cwd: dir });
  expect(killed.code).toBe(5);
  expect(killed.stdout).toContain(`${diedPromoting}, and has ended since)`);
  expect(killed.stdout).toContain(`a bluegreen rollback (pid ${first.pid}) was killed while its rollback hook ran, and the hook still runs`);

  // 2. The next rollback stops that hook, runs its own, which fails: still unfinished, still said.
  const failed = await runCli(['rollback'], { cwd: dir, env });
  expect(failed.code, failed.stderr).toBe(5);
  expect(failed.stderr).toContain(`left running by a bluegreen rollback (pid ${first.pid}) that was killed while it ran`);
  expect(isAlive(Number(readFileSync(path.join(dir, 'rb1.pid'), 'utf8')))).toBe(false);
  const after = await runCli(['status'], { cwd: dir });
  expect(after.code).toBe(5);
  expect(after.stdout).toContain(`${diedPromoting}, and has ended since)`);
  expect(after.stderr).toContain(diedPromoting);
  // That recovery's hook was stopped: no longer said as running; its stop is in the journal's recent events.
  expect(after.stdout).not.toContain(`a bluegreen rollback (pid ${first.pid}) was killed while its rollback hook ran`);
  expect(after.stdout).toMatch(/warning +stage 2: stopped the on_rollback hook \(process group \d+\) left running by a bluegreen rollback/);

  // 3. The last one puts traffic back on blue and forgets the record.
  const last = await runCli(['rollback'], { cwd: dir, env });
  expect(last.code, last.stderr).toBe(0);
  expect(hookLog(dir)).toEqual(['stage 0.5', 'stage 1', 'rollback 0']);
  expect(readState(dir)).toMatchObject({ phase: 'rolled_back', exitCode: 5, greenWeight: 0 });
  expect(existsSync(path.join(dir, '.bluegreen', 'hook.json'))).toBe(false);
  expect((await runCli(['status'], { cwd: dir })).code).toBe(0);
});
