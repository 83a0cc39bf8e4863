// The state folder as operators meet it: the lock, `status` on a dead owner, --watch, and Ctrl-C on the
// real binary.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runCli, testContext } from '../helpers/cli.js';
import { tempDir, writePlan, simulatedPlan } from '../helpers/plans.js';
import { deadPid } from '../state/helpers.js';
import { exitOf, journal, startRollout, stderrOf } from './helpers.js';

const PLAN = simulatedPlan('state-test', '30s', 0.5);

function snapshotFor(pid: number, extra: Record<string, unknown> = {}) {
  const arm = {
    requests: 10,
    successes: 9,
    failures: 1,
    failuresByClass: { server_error: 1 },
    retries: 0,
    dropped: 0,
    inFlight: 0,
    qualityFailures: 0,
    consecutiveFailures: 0,
    latency: { p50: 5, p95: 9, p99: 10, max: 11, mean: 5, count: 10 },
    ttft: null,
    tokens: { prompt: 100, completion: 200 },
    costUsd: 0.01,
  };
  return {
    version: 1,
    plan: { name: 'ghost', file: '/x/plan.yaml', hash: 'h', blueModel: 'a', greenModel: 'b', stages: [{ durationMs: 30000, greenWeight: 0.5 }] },
    pid,
    phase: 'progressing',
    startedAt: Date.now() - 20_000,
    updatedAt: Date.now() - 10_000,
    stageIndex: 0,
    stageElapsedMs: 10_000,
    greenWeight: 0.5,
    stages: [{ index: 0, greenWeight: 0.5, durationMs: 30000, verdict: 'running', startedAt: Date.now() - 20_000, arms: { blue: arm, green: arm } }],
    checks: [],
    window: {
      blue: { seconds: 10, requestsPerSecond: 1, errorRate: 0, latencyP95: 9 },
      green: { seconds: 10, requestsPerSecond: 1, errorRate: 0, latencyP95: 9 },
    },
    greenErrorTrend: [],
    recentEvents: [{ at: Date.now() - 20_000, type: 'stage_started', stage: 0, message: 'stage 1/1 started' }],
    ...extra,
  };
}

/** A state folder whose rollout rolled back (exit 10) and ended. */
async function rolledBackFolder(): Promise<string> {
  const dir = tempDir();
  mkdirSync(path.join(dir, '.bluegreen'));
  writeFileSync(
    path.join(dir, '.bluegreen', 'state.json'),
    JSON.stringify(snapshotFor(await deadPid(), { phase: 'rolled_back', endedAt: Date.now(), exitCode: 10, reason: 'green error_rate 9.0% > 5.0%' })),
  );
  return dir;
}

describe('state folder', () => {
  it('refuses a second rollout while the lock is held, naming the owner pid', async () => {
    const dir = tempDir();
    writePlan(PLAN, dir);
    const stateDir = path.join(dir, '.bluegreen');
    mkdirSync(stateDir);
    // The test process itself is alive: its lock must be respected.
    writeFileSync(
      path.join(stateDir, 'lock'),
      JSON.stringify({ pid: process.pid, planName: 'other', startedAt: Date.now(), user: 'alice', host: (await import('node:os')).hostname(), token: 't' }),
    );
    const result = await runCli(['rollout', 'plan.yaml', '--plain'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`pid ${process.pid}`);
    expect(result.stderr).toContain('holds');
  });

  it('status says when the owning process is gone: orphaned, exit 5, pointing to bluegreen rollback', async () => {
    const dir = tempDir();
    const stateDir = path.join(dir, '.bluegreen');
    mkdirSync(stateDir);
    const pid = await deadPid();
    writeFileSync(path.join(stateDir, 'state.json'), JSON.stringify(snapshotFor(pid)));
    const text = await runCli(['status'], { cwd: dir });
    expect(text.code).toBe(5);
    expect(text.stderr).toContain('died without finishing, at stage 1/1 with green at 50%');
    expect(text.stderr).toContain('run bluegreen rollback');
    expect(text.stdout).toContain('rollout ghost: orphaned (its process died while progressing)');
    expect(text.stdout).not.toContain('left in stage');
    expect(text.stdout).toContain(`owner pid ${pid} is gone`);
    const json = await runCli(['status', '--json'], { cwd: dir });
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout)).toMatchObject({ phase: 'progressing', ownerAlive: false, orphaned: true, pid });
    const watch = await runCli(['status', '--watch', '--interval', '100'], { cwd: dir });
    expect(watch.code).toBe(5);
    expect(watch.stderr).toContain('died without finishing');
    const pause = await runCli(['pause'], { cwd: dir });
    expect(pause.code).toBe(5);
    expect(pause.stderr).toContain('run bluegreen rollback');
  });

  it("status --watch exits with the finished rollout's exit code", async () => {
    const dir = await rolledBackFolder();
    const watch = await runCli(['status', '--watch'], { cwd: dir });
    expect(watch.code).toBe(10);
    expect(watch.stdout).toContain('stage_started');
  });

  it('status --watch on a dumb terminal (TERM=dumb) prints lines, not the dashboard, as rollout does', async () => {
    const dir = await rolledBackFolder();
    const ctx = testContext({ cwd: dir, env: { TERM: 'dumb' }, tty: true });
    expect(await main(['node', 'bluegreen', 'status', '--watch'], ctx)).toBe(10);
    expect(ctx.out()).toContain('stage_started');
    // No cursor movement nor colour: a dumb terminal shows escape sequences as garbage.
    expect(ctx.out()).not.toContain('\u001b');
  });

  it('status without any state exits 2 with a hint', async () => {
    const result = await runCli(['status'], { cwd: tempDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no rollout state in');
  });

  it('Ctrl-C on the real binary rolls back, exits 130 and leaves a state status can read', async () => {
    const dir = tempDir();
    writePlan(PLAN, dir);
    const child = startRollout(dir);
    const stderr = stderrOf(child);
    await stderr.waitFor('stage_started');
    child.kill('SIGINT');
    // exitOf, not 'exit': the exit can be seen before the last of stderr is read.
    const { code } = await exitOf(child);
    expect(code).toBe(130);
    expect(stderr.text()).toContain('interrupted by SIGINT');
    const state = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as { phase: string; exitCode: number; greenWeight: number };
    expect(state).toMatchObject({ phase: 'interrupted', exitCode: 130, greenWeight: 0 });
    const status = await runCli(['status'], { cwd: dir });
    expect(status.stdout).toContain('rollout state-test: interrupted (exit 130)');
    expect(journal(dir).map((e) => e.type)).toEqual(expect.arrayContaining(['rollout_started', 'interrupted', 'finished']));
  });
});
