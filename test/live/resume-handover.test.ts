// A proxy stopped (SIGTERM) while rollout A drives it hands a hanging green request's failure over through its state
// folder, tagged with A's run; A is killed with -9 before it reads the replacement. `rollout --resume` is a new
// process with a new run id: it judges the handed-over failure in its stage (state.json names A's run), while a new
// rollout started on the same folder instead does not take it (another rollout's result).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { liveResumeOf } from '../../src/live/resume-record.js';
import { BIN } from '../e2e/helpers.js';
import { runCli } from '../helpers/cli.js';
import { drivenAtFullGreen, type HandoverReport, startReplacement, startSlowGreenProxy, stopWhileServing } from './handover-setup.js';
import { ADMIN_TOKEN, liveView, type ProxyProcess } from './helpers.js';
import { until } from '../helpers/until.js';

const processes: ProxyProcess[] = [];
afterEach(async () => {
  for (const proxy of processes.splice(0)) await proxy.kill();
});

/** state.json, or undefined while a new rollout has moved the last one aside and not yet written its own. */
function state(dir: string): unknown {
  try {
    return JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Rollout A (its own process) drives a proxy at 100% green; a green request hangs; the proxy is stopped and A killed
 * with -9 while it drains; the proxy's timeout fails the request, which it hands over; its replacement starts on
 * the same ports and folder. Returns the rollout's folder and A's run id.
 */
async function handedOverByDeadRollout(): Promise<{ dir: string; deadRun: string }> {
  // The replacement starts only once the request has ended, so the request need only outlast its stop: 2 s, not
  // the default 5 s of waiting for the timeout in each test.
  const setup = await startSlowGreenProxy(processes, '2s');
  const { dir } = setup;
  const rollout = spawn(process.execPath, [BIN, 'rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { PATH: process.env.PATH, ADMIN_TOKEN }, stdio: 'ignore' });
  try {
    await drivenAtFullGreen(setup);
    // Stopped while A drives it (its admin port closes at once: A cannot read it any more), then A dies.
    const { answer, exited } = await stopWhileServing(setup);
    const killed = once(rollout, 'exit');
    rollout.kill('SIGKILL');
    await killed;
    expect((await answer).status).toBeGreaterThanOrEqual(500);
    expect(await exited).toBe(143);
  } finally {
    if (rollout.exitCode === null && rollout.signalCode === null) rollout.kill('SIGKILL');
  }
  await startReplacement(setup, processes);
  // A saved its run id before it moved any traffic.
  const deadRun = liveResumeOf(state(dir))?.controllers.at(-1);
  expect(deadRun).toMatch(/^[0-9a-f-]{36}$/);
  return { dir, deadRun: deadRun as string };
}

describe('results a stopped proxy handed over while the rollout that drove it died', () => {
  it('rollout --resume judges them in their stage, once', async () => {
    const { dir, deadRun } = await handedOverByDeadRollout();
    const run = runCli(['rollout', 'plan.yaml', '--resume', '--ci', '--report-json', 'report.json'], { cwd: dir, env: { ADMIN_TOKEN } });
    await until(() => (liveView(dir)?.stages[0]?.arms.green.failures ?? 0) > 0, 'the handed-over failure in the resumed rollout');
    // The resumed run keeps the dead run's id beside its own, for a resume of it in turn.
    const resumed = liveResumeOf(state(dir));
    expect(resumed?.controllers).toHaveLength(2);
    expect(resumed?.controllers[0]).toBe(deadRun);
    const abort = await runCli(['abort'], { cwd: dir });
    expect(abort.code, abort.stderr).toBe(0);
    const result = await run;
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain('resuming the rollout of plan "live-test"');
    expect(liveView(dir)?.stages[0]?.arms.green).toEqual({ requests: 1, failures: 1 });
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as HandoverReport;
    expect(report.stages[0]?.arms.green).toMatchObject({ requests: 1, failures: 1, failuresByClass: { timeout: 1 } });
  }, 120_000);

  it('a new rollout on the same folder does not take them: they were served under another rollout', async () => {
    const { dir, deadRun } = await handedOverByDeadRollout();
    const run = runCli(['rollout', 'plan.yaml', '--ci', '--report-json', 'report.json'], { cwd: dir, env: { ADMIN_TOKEN } });
    // It puts the dead rollout's traffic back on blue, starts its own stage 1, and reads the proxy.
    await until(
      () => liveView(dir)?.proxies[0]?.lastContactAt !== undefined && (liveResumeOf(state(dir))?.controllers[0] ?? deadRun) !== deadRun,
      'the new rollout to read the proxy',
      30_000,
    );
    const before = liveView(dir)?.proxies[0]?.lastContactAt ?? 0;
    await until(() => (liveView(dir)?.proxies[0]?.lastContactAt ?? 0) > before, 'another read of the proxy');
    const abort = await runCli(['abort'], { cwd: dir });
    expect(abort.code, abort.stderr).toBe(0);
    const result = await run;
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain('putting traffic back on blue before starting');
    expect(liveView(dir)?.stages[0]?.arms.green ?? { requests: 0, failures: 0 }).toEqual({ requests: 0, failures: 0 });
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as HandoverReport;
    expect(report.stages[0]?.arms.green).toMatchObject({ requests: 0, failures: 0 });
  }, 120_000);
});
