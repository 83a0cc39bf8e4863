// `status` reads what the files say: the journal's ending beats an older state.json; a damaged state.json is a
// clear error (exit 2) naming the key, not a crash.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { emptyArmStats } from '../../src/metrics/index.js';
import type { RolloutEvent, RolloutSnapshot } from '../../src/engine/types.js';
import { deadPid, snapshot } from '../state/helpers.js';
import { killAfterTest } from '../helpers/processes.js';
import { bootId, readProcStat } from '../../src/core/proc-stat.js';

function stateFolder(state: unknown, events: unknown[] = []): string {
  const cwd = tempDir();
  mkdirSync(path.join(cwd, 'st'));
  writeFileSync(path.join(cwd, 'st', 'state.json'), JSON.stringify(state));
  writeFileSync(path.join(cwd, 'st', 'events.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  return cwd;
}

describe('status', () => {
  it("prefers the journal's final event when state.json is older", async () => {
    const saved = snapshot({ phase: 'progressing', greenWeight: 0.5, updatedAt: 1000 });
    const finished = {
      at: 5000,
      type: 'finished',
      stage: 0,
      greenWeight: 0,
      message: 'rolled back (exit 10): green error_rate 0.3 > 0.05',
      data: { phase: 'rolled_back', exitCode: 10 },
    };
    const cwd = stateFolder(saved, [{ at: 900, type: 'stage_started', message: 'stage 1' }, finished]);
    const json = await runCli(['status', '--json', '--state-dir', 'st'], { cwd });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ phase: 'rolled_back', exitCode: 10, greenWeight: 0, endedAt: 5000, reason: finished.message });
    const text = await runCli(['status', '--state-dir', 'st'], { cwd });
    expect(text.stdout).toContain('rollout demo: rolled back (exit 10)');
  });

  it("rollback and the control commands name the journal's ending too, not state.json's stale phase", async () => {
    const saved = snapshot({ phase: 'progressing', greenWeight: 1, updatedAt: 1000 });
    const finished = { at: 5000, type: 'finished', stage: 0, greenWeight: 1, message: 'promoted (exit 0)', data: { phase: 'promoted', exitCode: 0 } };
    const cwd = stateFolder(saved, [finished]);
    const rollback = await runCli(['rollback', '--state-dir', 'st'], { cwd });
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain('already ended (promoted, exit 0); bluegreen rollback does not undo a promotion');
    const pause = await runCli(['pause', '--state-dir', 'st'], { cwd });
    expect(pause.code).toBe(2);
    expect(pause.stderr).toContain('has finished (promoted at 1970-01-01T00:00:05.000Z)');
  });

  it('keeps state.json when the journal has nothing newer', async () => {
    // The `finished` line comes before the last line state.json holds: not an ending it missed.
    const started: RolloutEvent = { at: 8000, type: 'stage_started', stage: 0, message: 'stage 1' };
    const cwd = stateFolder(snapshot({ updatedAt: 9000, recentEvents: [started] }), [
      { at: 5000, type: 'finished', message: 'old', data: { phase: 'promoted', exitCode: 0 } },
      started,
    ]);
    expect(JSON.parse((await runCli(['status', '--json', '--state-dir', 'st'], { cwd })).stdout)).toMatchObject({ phase: 'progressing' });
  });

  it("reads a long journal's end only: its last lines, not the whole file (here past the 256 MB a whole read takes)", async () => {
    // Before: status read the whole journal (a 64 MB one took 8.8 s and 480 MB); one past 256 MB was refused, exit 2.
    const started: RolloutEvent = { at: 8000, type: 'stage_started', stage: 0, message: 'stage 1' };
    const cwd = stateFolder(snapshot({ pid: await deadPid(), updatedAt: 9000, recentEvents: [started] }));
    const journal = path.join(cwd, 'st', 'events.jsonl');
    // A sparse file: 300 MB of hole (no disk), then the lines status needs.
    truncateSync(journal, 300 * 1024 * 1024);
    appendFileSync(journal, `\n${JSON.stringify(started)}\n${JSON.stringify({ at: 9500, type: 'warning', stage: 0, message: 'the tail line' })}\n`);
    const run = await runCli(['status', '--state-dir', 'st'], { cwd });
    expect(run.code, run.stderr).toBe(5);
    expect(run.stdout).toContain('the tail line');
  });

  it("takes a `finished` line state.json missed for the end though it is timed before state.json's last write (clock stepped back)", async () => {
    // Before: the text said the rollout died without finishing (the line was older than updatedAt), the exit was 0.
    const started: RolloutEvent = { at: 8000, type: 'stage_started', stage: 0, message: 'stage 1' };
    const saved = snapshot({ pid: await deadPid(), phase: 'progressing', greenWeight: 0.5, updatedAt: 9000, recentEvents: [started] });
    const finished = {
      at: 4000,
      type: 'finished',
      stage: 0,
      greenWeight: 0,
      message: 'rolled back (exit 10): green breached',
      data: { phase: 'rolled_back', exitCode: 10 },
    };
    const cwd = stateFolder(saved, [started, finished]);
    const text = await runCli(['status', '--state-dir', 'st'], { cwd });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('rollout demo: rolled back (exit 10)');
    expect(text.stdout).not.toMatch(/died|orphan/);
    expect(text.stderr).toBe('');
    const json = await runCli(['status', '--json', '--state-dir', 'st'], { cwd });
    expect(JSON.parse(json.stdout)).toMatchObject({ phase: 'rolled_back', exitCode: 10, orphaned: false });
  });

  it("after a kill -9 at a stage's start shows the stage the journal started, as the orphan message does (state.json trailed it)", async () => {
    const stage = (index: number, verdict: 'running' | 'pending') => ({
      index,
      greenWeight: [0.1, 0.5][index],
      durationMs: 60_000,
      verdict,
      arms: { blue: emptyArmStats(), green: emptyArmStats() },
    });
    const at = 1_700_000_000_000;
    const started1: RolloutEvent = { at: at + 1000, type: 'stage_started', stage: 0, greenWeight: 0.1, message: 'stage 1/2 started: 10% green for 1m' };
    // state.json's last write: stage 1 running, its checks; then the journal went on and the process was killed.
    const saved = snapshot({
      pid: await deadPid(),
      startedAt: at,
      updatedAt: at + 60_500,
      stageIndex: 0,
      stageElapsedMs: 59_500,
      greenWeight: 0.1,
      plan: {
        ...snapshot().plan,
        stages: [
          { durationMs: 60_000, greenWeight: 0.1 },
          { durationMs: 60_000, greenWeight: 0.5 },
        ],
      },
      stages: [stage(0, 'running'), stage(1, 'pending')] as unknown as RolloutSnapshot['stages'],
      checks: [{ rule: 'error_rate', status: 'pass', figure: 0, limit: 0.05, unit: 'ratio', sample: 30 }] as unknown as RolloutSnapshot['checks'],
      recentEvents: [started1],
    });
    const journal: RolloutEvent[] = [
      started1,
      { at: at + 61_000, type: 'stage_passed', stage: 0, greenWeight: 0.1, message: 'stage 1/2 passed at 10% green' },
      { at: at + 61_040, type: 'hook_succeeded', stage: 1, greenWeight: 0.5, message: 'on_stage hook: exec ./set-weight.sh exited 0 in 40ms' },
      { at: at + 61_041, type: 'stage_started', stage: 1, greenWeight: 0.5, message: 'stage 2/2 started: 50% green for 1m' },
    ];
    const cwd = stateFolder(saved, journal);
    const text = await runCli(['status', '--state-dir', 'st'], { cwd });
    expect(text.code).toBe(5);
    expect(text.stdout).toContain('  stage 2/2, green 50% / blue 50%\n');
    expect(text.stdout).toMatch(/ {6}1 {4}10% {2}passed {5}blue/);
    expect(text.stdout).toMatch(/ {6}2 {4}50% {2}running {4}blue/);
    // Stage 1's checks are not shown as stage 2's; the lines state.json missed are among the recent events.
    expect(text.stdout).not.toContain('checks (green, current stage)');
    expect(text.stdout).toContain('stage 2/2 started: 50% green for 1m');
    expect(text.stderr).toContain('died without finishing, at stage 2/2 with green at 50%');
    const json = JSON.parse((await runCli(['status', '--json', '--state-dir', 'st'], { cwd })).stdout) as RolloutSnapshot;
    expect(json).toMatchObject({ stageIndex: 1, greenWeight: 0.5, stageElapsedMs: 0, updatedAt: at + 61_041, checks: [] });
    expect(json.recentEvents.map((event) => event.type)).toEqual(['stage_started', 'stage_passed', 'hook_succeeded', 'stage_started']);
  });

  it("after a kill -9 during the next stage's on_stage hook says green is at the old weight or the new one (hook.json), not the old alone", async () => {
    const at = 1_700_000_000_000;
    const pid = await deadPid();
    const stages = [
      { durationMs: 60_000, greenWeight: 0.1 },
      { durationMs: 60_000, greenWeight: 0.5 },
    ];
    const passed: RolloutEvent = { at: at + 61_000, type: 'stage_passed', stage: 0, greenWeight: 0.1, message: 'stage 1/2 passed at 10% green' };
    // Stage 1 passed, stage 2's on_stage hook started (hook.json), and the process was killed while it ran: no
    // line says so in the journal, and state.json keeps 10% until the hook succeeds.
    const saved = snapshot({ pid, startedAt: at, updatedAt: at + 61_000, greenWeight: 0.1, plan: { ...snapshot().plan, stages }, recentEvents: [passed] });
    const cwd = stateFolder(saved, [passed]);
    const hookFile = path.join(cwd, 'st', 'hook.json');
    // The hook's group is gone too (a pid no process has): it ended, with what result nothing recorded.
    writeFileSync(hookFile, JSON.stringify({ pgid: await deadPid(), plan: 'demo', event: 'stage', pid, stage: 2, greenWeight: 0.5 }));
    const text = await runCli(['status', '--state-dir', 'st'], { cwd });
    expect(text.code).toBe(5);
    expect(text.stdout).toContain('  stage 1/2, green 10% / blue 90%\n');
    expect(text.stdout).toContain("  green at 10% or 50% (its on_stage hook setting stage 2's 50% green was running when it died, and has ended since)\n");
    expect(text.stderr).toContain("died without finishing, at stage 1/2 with green at 10% or 50% (its on_stage hook setting stage 2's 50% green was running");
    const json = JSON.parse((await runCli(['status', '--json', '--state-dir', 'st'], { cwd })).stdout) as RolloutSnapshot & { hook: unknown };
    expect(json).toMatchObject({ stageIndex: 0, greenWeight: 0.1, hook: { event: 'stage', stage: 2, greenWeight: 0.5, running: false } });

    // Another rollout's record (an older pid) says nothing about this one.
    writeFileSync(hookFile, JSON.stringify({ pgid: 4_000_000, plan: 'demo', event: 'stage', pid: pid + 1, stage: 2, greenWeight: 0.5 }));
    const other = await runCli(['status', '--state-dir', 'st'], { cwd });
    expect(other.stderr).toContain('at stage 1/2 with green at 10%; traffic may not be on blue');
    expect(other.stdout).not.toContain('on_stage hook');
  });

  // Before (session 21): status judged the rollout's pid, and hook.json's recovery pid, by the pid alone, while the
  // orphan check used state.json's start time: a pid given to another process since read "owner pid N is running"
  // beside exit 5, and a killed recovery as "putting it back on blue".
  it('judges the pids of state.json and of a recovery in hook.json by their start times: a pid given to another process since is gone', async () => {
    const living = async () => {
      const child = killAfterTest(spawn('sleep', ['600'], { stdio: 'ignore' }));
      await once(child, 'spawn');
      const pid = child.pid as number;
      const started = readProcStat(pid)?.startTime as string;
      return { pid, started, other: `${Number(started) + 1}` };
    };
    // The rollout's pid and its recovery's (another process), each now given to a process started since.
    const [owner, rollback] = [await living(), await living()];
    const cwd = stateFolder(snapshot({ pid: owner.pid, pidStart: owner.other }));
    const hookFile = path.join(cwd, 'st', 'hook.json');
    const recovery = { plan: 'demo', event: 'rollback', pid: rollback.pid, stage: 1, greenWeight: 0, recovery: 'bluegreen rollback' };
    writeFileSync(hookFile, JSON.stringify({ ...recovery, pidStart: rollback.other }));
    const gone = await runCli(['status', '--state-dir', 'st'], { cwd });
    expect(gone.code).toBe(5);
    expect(gone.stdout).toContain(`owner pid ${owner.pid} is gone`);
    expect(gone.stdout).toContain(`a bluegreen rollback (pid ${rollback.pid}) was killed while its rollback hook ran`);

    // Its own start time in another boot (a reboot since: start times count from boot): gone too.
    writeFileSync(hookFile, JSON.stringify({ ...recovery, pidStart: rollback.started, bootId: 'another-boot' }));
    expect((await runCli(['status', '--state-dir', 'st'], { cwd })).stdout).toContain(
      `a bluegreen rollback (pid ${rollback.pid}) was killed while its rollback hook ran`,
    );

    // Its own start time (in this boot, or none recorded), or none (a record from before session 22): the pid is that process, alive.
    for (const record of [{ ...recovery, pidStart: rollback.started, bootId: bootId() }, { ...recovery, pidStart: rollback.started }, recovery]) {
      writeFileSync(hookFile, JSON.stringify(record));
      const running = await runCli(['status', '--state-dir', 'st'], { cwd });
      expect(running.stdout).toContain(`a bluegreen rollback (pid ${rollback.pid}) is putting it back on blue`);
    }
  });

  it('--json leaves out the histograms state.json keeps for --resume (base64 for bluegreen alone), not the percentiles', async () => {
    const arm = { ...emptyArmStats(), latency: { p50: 1, p95: 2, p99: 3, max: 4, mean: 1.5, count: 2 }, histograms: { latency: 'HISTOGRAM-BASE64' } };
    const stage = { index: 0, greenWeight: 0.1, durationMs: 1000, verdict: 'running', arms: { blue: arm, green: arm } };
    const cwd = stateFolder(snapshot({ stages: [stage] as unknown as RolloutSnapshot['stages'] }));
    const result = await runCli(['status', '--json', '--state-dir', 'st'], { cwd });
    expect(result.stdout).not.toContain('HISTOGRAM-BASE64');
    const json = JSON.parse(result.stdout) as RolloutSnapshot;
    expect(json.stages[0]?.arms.green.latency?.p99).toBe(3);
    expect(json.stages[0]?.arms.green).not.toHaveProperty('histograms');
  });

  it('--watch refuses an --interval a timer cannot hold', async () => {
    const cwd = stateFolder(snapshot());
    const result = await runCli(['status', '--watch', '--interval', '9999999999', '--state-dir', 'st'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--interval (milliseconds) expects a whole number from 100 to 3600000, got "9999999999"');
  });

  it('a hand-edited state.json is exit 2 with the bad keys named', async () => {
    const cwd = stateFolder({ ...snapshot(), stages: 'none', greenWeight: '50%' });
    const result = await runCli(['status', '--state-dir', 'st'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is not a bluegreen state file: greenWeight: expected number, received string; stages: expected array, received string');
    expect(result.stderr).not.toContain('internal error');
  });
});
