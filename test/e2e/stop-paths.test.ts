// Every way a real bluegreen process can be stopped ends with traffic on blue: a slow hook cut short by abort
// or Ctrl-C, SIGHUP, a closed output pipe (rolled back: nobody is watching). (npx and CI: launcher.test.ts; kill -9: recovery.test.ts.)
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/plans.js';
import { BIN, exitOf, hookLog, journal, journalHas, loggingPlan, readState, startRollout, stderrOf } from './helpers.js';
import { isAlive, killAfterTest } from '../helpers/processes.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { until } from '../helpers/until.js';

describe('a slow on_stage hook when the rollout stops', () => {
  for (const how of ['abort', 'SIGINT'] as const) {
    it(`is killed with its whole process group before the ending hook runs (${how})`, async () => {
      const dir = tempDir();
      // The hook's shell starts a child that ignores SIGTERM, as `sleep 8; set-weight 0.25` in a wrapper might. It
      // runs until the test lets it go, not for 8 s: on a loaded machine the abort reaching the rollout, the SIGTERM and
      // the 2 s grace before the SIGKILL can take longer, and the hook would finish on its own and log its weight.
      loggingPlan(dir, { stageHookDelay: `sh -c 'trap "" TERM; echo $$ > child.pid; while [ ! -e go ]; do sleep 0.1; done' ` });
      const child = startRollout(dir);
      const stderr = stderrOf(child);
      const started = () => existsSync(path.join(dir, 'child.pid')) && readFileSync(path.join(dir, 'child.pid'), 'utf8').endsWith('\n');
      let code: number | null;
      try {
        // A rollout that died first fails the test at once, saying why. Its start (a node process, the simulator, the
        // preflight) took over 30 s at load 28: the deadline is the test's own, not until()'s default.
        await until(() => started() || child.exitCode !== null, 'the slow hook to start', 100_000).catch((error: unknown) => {
          throw new Error(`${String(error)}; the rollout's stderr: ${stderr.text()}`, { cause: error });
        });
        if (!started()) throw new Error(`the rollout exited (${child.exitCode}) before its slow hook started: ${stderr.text()}`);
        const hookPid = Number(readFileSync(path.join(dir, 'hook.pid'), 'utf8'));
        const grandchild = Number(readFileSync(path.join(dir, 'child.pid'), 'utf8'));
        if (how === 'abort') expect((await runCli(['abort'], { cwd: dir })).code).toBe(0);
        else child.kill('SIGINT');
        code = (await exitOf(child)).code;
        // Both the hook's shell and the child that ignored SIGTERM are gone when bluegreen exits.
        expect(isAlive(hookPid)).toBe(false);
        expect(isAlive(grandchild)).toBe(false);
      } finally {
        // Let a hook bluegreen failed to stop go, so a failing test leaves nothing running.
        writeFileSync(path.join(dir, 'go'), '');
      }
      expect(code).toBe(how === 'abort' ? 4 : 130);
      // The slow hook never logged its weight; the last weight written is the ending hook's 0.
      expect(hookLog(dir)).toEqual([how === 'abort' ? 'abort 0' : 'rollback 0']);
      expect(readState(dir)).toMatchObject({ greenWeight: 0 });
    }, 120_000);
  }
});

describe('signals and output', () => {
  it('SIGHUP (a dropped SSH session) rolls back like SIGTERM and exits 129', async () => {
    const dir = tempDir();
    loggingPlan(dir);
    const child = startRollout(dir);
    await until(journalHas(dir, 'stage_started'), 'stage 1');
    child.kill('SIGHUP');
    expect(await exitOf(child)).toEqual({ code: 129, signal: null });
    expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
    expect(readState(dir)).toMatchObject({ phase: 'interrupted', exitCode: 129, greenWeight: 0, reason: 'interrupted by SIGHUP; rolled back to blue' });
  });

  it('a failing on_rollback is recorded and does not change the ending or its code', async () => {
    const dir = tempDir();
    loggingPlan(dir, { rollbackHook: 'echo "gateway refused" >&2; exit 3' });
    const child = startRollout(dir);
    await until(journalHas(dir, 'stage_started'), 'stage 1');
    child.kill('SIGTERM');
    expect((await exitOf(child)).code).toBe(143);
    expect(readState(dir)).toMatchObject({ phase: 'interrupted', exitCode: 143, greenWeight: 0 });
    expect(journal(dir).find((e) => e.type === 'hook_failed')?.message).toContain('exited 3: gateway refused');
  });

  it('a closed output pipe (`2>&1 | head -1`): nobody is watching, so it rolls back like a hangup (exit 129), no crash', async () => {
    const dir = tempDir();
    loggingPlan(dir);
    // head -1, not -2: the first line comes before the on_stage hook runs and the next only after it, by when head has
    // gone, so that write finds the pipe closed. The start's second and third lines come together: read past the
    // second, the pipe was seen closed only at the first monitor line, 5 s later (as it still is if head is slower
    // than the hook).
    const shell = killAfterTest(
      spawn('bash', ['-c', `"${process.execPath}" "${BIN}" rollout plan.yaml --plain 2>&1 | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`], {
        cwd: dir,
        env: { ...process.env, CI: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    let err = '';
    shell.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    shell.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    await exitOf(shell);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(err).toContain('exit=129');
    expect(err).not.toContain('EPIPE');
    expect(readState(dir)).toMatchObject({
      phase: 'interrupted',
      exitCode: 129,
      greenWeight: 0,
      reason: 'interrupted by its output closing; rolled back to blue',
    });
    expect(hookLog(dir)).toEqual(['stage 0.25', 'rollback 0']);
  });
});

describe('Ctrl-C while the rollout is promoting', () => {
  it('is not met with silence: the promotion finishes, and stderr says what it waits for and what a second Ctrl-C does', async () => {
    const dir = tempDir();
    // on_promote runs until the test lets it go: the Ctrl-C lands while it moves traffic.
    loggingPlan(dir, { promoteHook: 'echo $$ > promote.pid; while [ ! -e go ]; do /bin/sleep 0.02; done; echo "promote $BLUEGREEN_GREEN_WEIGHT" >> hook.log' });
    const child = startRollout(dir);
    const stderr = stderrOf(child);
    await until(journalHas(dir, 'stage_started'), 'stage 1');
    expect((await runCli(['promote'], { cwd: dir })).code).toBe(0);
    await until(() => existsSync(path.join(dir, 'promote.pid')), 'on_promote to start');
    // A request from another terminal now would never be read: refused, saying why.
    const abort = await runCli(['abort'], { cwd: dir });
    expect(abort.code).toBe(2);
    expect(abort.stderr).toContain('is already promoting green to 100% (its promote hook moving all traffic to green is under way): abort is not taken now');
    child.kill('SIGINT');
    try {
      await until(() => stderr.text().includes('SIGINT: the rollout is already ending'), 'the line saying the promotion is finishing');
    } finally {
      // Let the hook finish even when the line never comes, so a failing test leaves nothing running.
      writeFileSync(path.join(dir, 'go'), '');
    }
    expect((await exitOf(child)).code).toBe(0);
    const line =
      stderr
        .text()
        .split('\n')
        .find((text) => text.includes('SIGINT: the rollout is already ending')) ?? '';
    expect(line).toContain('promoting green to 100%');
    expect(line).toContain('it waits for the on_promote hook (exec, up to its 1m00s timeout), which a signal does not stop');
    expect(line).toContain('a promotion under way is not turned into a rollback');
    expect(line).toContain('another Ctrl-C changes nothing more');
    expect(hookLog(dir)).toEqual(['stage 0.25', 'promote 1']);
    expect(readState(dir)).toMatchObject({ phase: 'promoted', exitCode: 0, greenWeight: 1 });
  });
});
