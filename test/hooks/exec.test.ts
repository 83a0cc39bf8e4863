import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runExec, runHook, type HookEvent } from '../../src/hooks/index.js';
import type { HookConfig } from '../../src/plan/schema.js';
import { isAlive } from '../helpers/processes.js';

const EVENT: HookEvent = {
  event: 'rollback',
  plan: 'gpt-4o-to-gpt-4.1',
  stage: 2,
  stages: 5,
  greenWeight: 0.25,
  blueModel: 'gpt-4o',
  greenModel: 'gpt-4.1',
  reason: 'green error rate 9.1% > 5%',
  at: 1_700_000_000_000,
};

let planDir: string;
beforeEach(() => {
  planDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'bluegreen-hook-')));
});
afterEach(() => rmSync(planDir, { recursive: true, force: true }));

function exec(command: string, timeout = 10_000): HookConfig {
  return { exec: command, timeout, retries: 0 };
}

describe('exec hooks', () => {
  it('run in the plan folder with the BLUEGREEN_* variables and the given env', async () => {
    writeFileSync(path.join(planDir, 'set-weight.sh'), '#!/bin/sh\npwd > cwd.txt\nenv | grep -E "^(BLUEGREEN_|TEAM=)" | sort > env.txt\n');
    chmodSync(path.join(planDir, 'set-weight.sh'), 0o755);
    const outcome = await runHook(exec('./set-weight.sh'), EVENT, { cwd: planDir, env: { PATH: process.env.PATH, TEAM: 'ml-platform' } });
    expect(outcome).toMatchObject({ ok: true, kind: 'exec', exitCode: 0 });
    expect(outcome.message).toMatch(/^exec \.\/set-weight\.sh exited 0 in \d+ms$/);
    expect(readFileSync(path.join(planDir, 'cwd.txt'), 'utf8').trim()).toBe(planDir);
    expect(readFileSync(path.join(planDir, 'env.txt'), 'utf8').trim().split('\n')).toEqual([
      'BLUEGREEN_BLUE_MODEL=gpt-4o',
      'BLUEGREEN_EVENT=rollback',
      'BLUEGREEN_GREEN_MODEL=gpt-4.1',
      'BLUEGREEN_GREEN_PERCENT=25',
      'BLUEGREEN_GREEN_WEIGHT=0.25',
      'BLUEGREEN_PLAN=gpt-4o-to-gpt-4.1',
      'BLUEGREEN_REASON=green error rate 9.1% > 5%',
      'BLUEGREEN_STAGE=2',
      'BLUEGREEN_STAGES=5',
      'TEAM=ml-platform',
    ]);
  });

  it('set BLUEGREEN_REASON empty when there is none', async () => {
    const { reason: _, ...noReason } = EVENT;
    await runHook(exec('printf "[%s]" "$BLUEGREEN_REASON" > reason.txt'), noReason, { cwd: planDir, env: {} });
    expect(readFileSync(path.join(planDir, 'reason.txt'), 'utf8')).toBe('[]');
  });

  it('fail on a non-zero exit, quoting the last stderr line', async () => {
    const outcome = await runHook(exec('echo working; echo "first" >&2; echo "lb api said 503" >&2; exit 3'), EVENT, { cwd: planDir, env: {} });
    expect(outcome).toMatchObject({
      ok: false,
      exitCode: 3,
      message: 'exec echo working; echo "first" >&2; echo "lb api said 503" >&2; exit 3 exited 3: lb api said 503',
    });
    expect(outcome.stdout).toBe('working\n');
  });

  it('show a URL in the command without its credentials or query string, in the label and the quoted output', async () => {
    const url = 'https://deploy:pw-s3cret-9@ci.example.test/job/set-weight/build?token=tk-s3cret-77&cause=bluegreen';
    const outcome = await runHook(exec(`echo "could not reach ${url}" >&2; exit 7 # ${url}`), EVENT, { cwd: planDir, env: {} });
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/^exec echo "could not reach https:\/\/ci\.example\.test\/job\/set-weight\/build" /);
    expect(outcome.message).toMatch(/exited 7: could not reach https:\/\/ci\.example\.test\/job\/set-weight\/build$/);
    expect(outcome.message).not.toMatch(/s3cret|deploy:/);
  });

  it('show no piece of a secret when the quoted output line is cut in the middle of its URL', async () => {
    const url = 'https://deploy:pw-s3cret-9@ci.example.test/job?token=tk-s3cret-77';
    // 140 characters before the URL: the 200-character cut of the quoted line falls inside its token.
    const outcome = await runHook(exec(`echo "${'x'.repeat(139)} ${url} failed" >&2; exit 7 # ${url}`), EVENT, { cwd: planDir, env: {} });
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toContain('exited 7: xxx');
    expect(outcome.message).not.toMatch(/s3cr|tk-s|pw-s/);
  });

  it('leave a URL without secrets, or one the shell fills in, as written', async () => {
    const outcome = await runHook(exec('true http://$HOST/set https://LB.example.test/weights'), EVENT, { cwd: planDir, env: {} });
    expect(outcome.message).toMatch(/^exec true http:\/\/\$HOST\/set https:\/\/LB\.example\.test\/weights exited 0 in/);
  });

  it('quote their output without terminal escapes: it is printed to the operator and the CI log', async () => {
    const outcome = await runHook(
      exec(String.raw`printf 'lb [2J]0;pwned[31mdown[0m
' >&2; exit 3`),
      EVENT,
      { cwd: planDir, env: {} },
    );
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/exited 3: lb \[2J \]0;pwned \[31mdown \[0m$/);
    expect(outcome.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it('kill the whole process group on timeout, without waiting for it', async () => {
    const started = Date.now();
    const outcome = await runHook(exec('sleep 5 & echo $! > child.pid; wait', 200), EVENT, { cwd: planDir, env: { PATH: process.env.PATH } });
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toBe('exec sleep 5 & echo $! > child.pid; wait timed out after 200ms');
    expect(Date.now() - started).toBeLessThan(2000);
    const child = Number(readFileSync(path.join(planDir, 'child.pid'), 'utf8'));
    expect(isAlive(child)).toBe(false);
  });

  it('stop when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = runHook(exec('sleep 5'), EVENT, { cwd: planDir, env: { PATH: process.env.PATH }, signal: controller.signal });
    controller.abort();
    const outcome = await pending;
    expect(outcome).toMatchObject({ ok: false, message: 'exec sleep 5 was stopped: the rollout is stopping' });
  });

  it('on abort, resolve only once the whole group is gone, a child that ignores SIGTERM included', async () => {
    const controller = new AbortController();
    const command = `sh -c 'trap "" TERM; echo $$ > child.pid; sleep 30'`;
    let group = 0;
    const pending = runExec(command, EVENT, {
      cwd: planDir,
      env: { PATH: process.env.PATH },
      timeoutMs: 60_000,
      signal: controller.signal,
      killGraceMs: 300,
      onStart: (pgid) => (group = pgid),
    });
    const pidFile = path.join(planDir, 'child.pid');
    while (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').endsWith('\n')) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    const outcome = await pending;
    expect(outcome.message).toBe(`exec ${command} was stopped: the rollout is stopping`);
    expect(group).toBeGreaterThan(0);
    expect(isAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('keep only the last few KB of output', async () => {
    const outcome = await runHook(exec('head -c 100000 /dev/zero | tr "\\0" x; echo END'), EVENT, { cwd: planDir, env: { PATH: process.env.PATH } });
    expect(outcome.ok).toBe(true);
    expect(outcome.stdout?.length).toBe(4096);
    expect(outcome.stdout?.endsWith('xEND\n')).toBe(true);
  });

  it('do not hang on a background child that keeps the output pipe open, and stop it (hostile12)', async () => {
    const outcome = await runHook(exec('sleep 30 & echo $! > bg.pid; echo done'), EVENT, { cwd: planDir, env: { PATH: process.env.PATH } });
    expect(outcome).toMatchObject({
      ok: true,
      message: expect.stringMatching(/exited 0 in .*; what it left running in the background was stopped$/) as unknown,
    });
    expect(isAlive(Number(readFileSync(path.join(planDir, 'bg.pid'), 'utf8')))).toBe(false);
  });

  it('report a missing plan folder instead of throwing', async () => {
    const outcome = await runHook(exec('true'), EVENT, { cwd: path.join(planDir, 'gone'), env: {} });
    expect(outcome).toMatchObject({ ok: false, kind: 'exec' });
    expect(outcome.message).toBe(`exec true could not start: its folder ${path.join(planDir, 'gone')} does not exist`);
  });
});
