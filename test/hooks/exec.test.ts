import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runExec, runHook, type HookEvent } from '../../src/hooks/index.js';
import type { HookConfig } from '../../src/plan/schema.js';
import { groupAlive } from '../../src/hooks/process-group.js';
import { isAlive } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { formatDuration } from '../../src/core/format.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

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

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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

  it('show the credentials a command passes as options or headers nowhere: the label, the quoted output, curl -v', async () => {
    const basic = Buffer.from('deploy:pw-s3cret-9').toString('base64');
    const command = [
      `echo "> Authorization: Basic ${basic}" >&2`,
      `echo "sent tk-s3cret-77 and ak-s3cret-55 and wg-s3cret-33" >&2`,
      `exit 7`,
      `curl -u deploy:pw-s3cret-9 -H "Authorization: Bearer tk-s3cret-77" -H 'x-api-key: ak-s3cret-55' --password=wg-s3cret-33 https://lb.example.test/w`,
    ].join('; ');
    const outcome = await runHook(exec(command), EVENT, { cwd: planDir, env: {} });
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/exited 7: sent … and … and …$/);
    expect(outcome.message).not.toMatch(/s3cret|pw-s|tk-s|ak-s|wg-s/);
    expect(outcome.message).not.toContain(basic.slice(0, 12));
  });

  it('show the credentials in the label also when the command quotes or escapes them, and leave other -u options alone', async () => {
    const quoted = await runHook(exec(String.raw`true -u 'ci:s3cret"x' --user=c:s3cret\ y -H"X-Auth-Token: tok s3cret-z"`), EVENT, { cwd: planDir, env: {} });
    expect(quoted.message).toMatch(/^exec true -u '…' --user=… -H"X-Auth-Token: …" exited 0 in/);
    // Only Authorization has a scheme word ahead of its credential: all of another key header's value is the key.
    const twoWords = await runHook(exec(`true -H 'x-api-key: key-half-one key-half-two' -H 'Authorization: Basic dG9rZW4tczNjcmV0'`), EVENT, {
      cwd: planDir,
      env: {},
    });
    expect(twoWords.message).toMatch(/^exec true -H 'x-api-key: …' -H 'Authorization: Basic …' exited 0 in/);
    const plain = await runHook(exec('date -u +%Y; true -H "Authorization: Bearer $TOKEN"'), EVENT, { cwd: planDir, env: {} });
    expect(plain.message).toMatch(/^exec date -u \+%Y; true -H "Authorization: Bearer \$TOKEN" exited 0 in/);
  });

  it('show a URL of any scheme without its credentials, one without an origin (s3://) by its host', async () => {
    const outcome = await runHook(exec('true ftp://ci:pw-s3cret-9@ftp.example.test/w s3://AKIA:sk-s3cret-8@bucket/k?x=1'), EVENT, { cwd: planDir, env: {} });
    expect(outcome.message).toMatch(/^exec true ftp:\/\/ftp\.example\.test\/w s3:\/\/bucket\/k exited 0 in/);
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
    // A wait for the sleep's own end would outlast the test's time limit: no clock is read here. The timeout runs from
    // the shell's start, and on a loaded machine 200 ms can pass before it has started the sleep and written its pid
    // (then there is no child to find killed): the same run again, with a longer timeout, until it has.
    const pidFile = path.join(planDir, 'child.pid');
    for (const timeoutMs of [200, 2000, 20_000]) {
      rmSync(pidFile, { force: true });
      const outcome = await runHook(exec('sleep 600 & echo $! > child.pid; wait', timeoutMs), EVENT, { cwd: planDir, env: { PATH: process.env.PATH } });
      expect(outcome.ok).toBe(false);
      expect(outcome.message).toBe(`exec sleep 600 & echo $! > child.pid; wait timed out after ${formatDuration(timeoutMs)}`);
      if (!existsSync(pidFile) || !readFileSync(pidFile, 'utf8').endsWith('\n')) continue;
      expect(isAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
      return;
    }
    throw new Error('the hook never started its sleep before its timeout, even of 20 s');
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

  // Before: an abort in the moment between the shell's exit and its pipes closing said "was stopped" of a hook that
  // had finished, and the journal said the rollout stopped it.
  it('an abort that comes once the command has exited reports how it ended, not that it was stopped', async () => {
    const controller = new AbortController();
    let shell = 0;
    // The background sleep holds the pipes open after the shell's exit, for the outcome to wait on.
    const pending = runExec('sleep 30 & echo $! > bg.pid; exit 0', EVENT, {
      cwd: planDir,
      env: { PATH: process.env.PATH },
      timeoutMs: 60_000,
      signal: controller.signal,
      onStart: (pgid) => (shell = pgid),
    });
    // Node reaps the shell and emits its exit in one step, so once its pid is gone (not a zombie) its exit is known.
    await until(() => shell > 0 && !pidExists(shell), 'the hook shell to be reaped');
    controller.abort();
    const outcome = await pending;
    expect(outcome).toMatchObject({ ok: true, exitCode: 0 });
    expect(outcome.message).toMatch(/^exec sleep 30 & echo \$! > bg\.pid; exit 0 exited 0 in .*; what it left running in the background was stopped$/);
    expect(isAlive(Number(readFileSync(path.join(planDir, 'bg.pid'), 'utf8')))).toBe(false);
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

  it('run the command only once onStart has returned: the caller records the group before the hook can act', async () => {
    const outcome = await runExec('/bin/cat record.txt > seen.txt; echo $$ >> seen.txt', EVENT, {
      cwd: planDir,
      env: {},
      timeoutMs: 60_000,
      onStart: (pgid) => {
        // An ungated command would run (and write seen.txt, without the record) while this waits for it.
        spawnSync('/bin/sh', ['-c', 'i=0; while [ ! -e seen.txt ] && [ $i -lt 50 ]; do /bin/sleep 0.02; i=$((i + 1)); done'], { cwd: planDir });
        writeFileSync(path.join(planDir, 'record.txt'), `${pgid}\n`);
      },
    });
    expect(outcome.ok).toBe(true);
    const [recorded, own] = readFileSync(path.join(planDir, 'seen.txt'), 'utf8').trim().split('\n');
    expect(recorded).toBe(own);
  });

  it('never run the command when bluegreen dies (kill -9) before it was let go, its group recorded', async () => {
    // A separate bluegreen: it records the group, then is killed at once, the moment the old code left open.
    const script = `import { runExec } from ${JSON.stringify(path.join(ROOT, 'dist/hooks/index.js'))};
      import { writeFileSync } from 'node:fs';
      void runExec('echo ran > ran.txt', { event: 'stage', plan: 'p', stage: 1, stages: 1, greenWeight: 0.1, blueModel: 'b', greenModel: 'g', at: 0 }, {
        cwd: process.cwd(), env: {}, timeoutMs: 60_000,
        onStart: (pgid) => { writeFileSync('record.txt', String(pgid)); process.kill(process.pid, 'SIGKILL'); },
      });`;
    const killed = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: planDir });
    expect(killed.signal).toBe('SIGKILL');
    const group = Number(readFileSync(path.join(planDir, 'record.txt'), 'utf8'));
    expect(group).toBeGreaterThan(1);
    // The gated shell reads end of file once its parent is gone, and exits: wait for the group to empty.
    await until(() => !groupAlive(group), 'the gated group to empty');
    expect(existsSync(path.join(planDir, 'ran.txt'))).toBe(false);
  });

  it('never start when the signal has aborted already', async () => {
    const controller = new AbortController();
    controller.abort();
    let started = false;
    const outcome = await runExec('echo ran > ran.txt', EVENT, {
      cwd: planDir,
      env: {},
      timeoutMs: 60_000,
      signal: controller.signal,
      onStart: () => (started = true),
    });
    expect(outcome).toMatchObject({ ok: false, kind: 'exec', message: 'exec echo ran > ran.txt was not run: the rollout is stopping', stdout: '', stderr: '' });
    expect(outcome.exitCode).toBeUndefined();
    expect(started).toBe(false);
    expect(existsSync(path.join(planDir, 'ran.txt'))).toBe(false);
  });

  it('report a shell killed by a signal, quoting its last output line, and keep its exit code for an exit', async () => {
    const killed = await runExec('echo about to go; kill -9 $$', EVENT, { cwd: planDir, env: { PATH: process.env.PATH }, timeoutMs: 60_000 });
    expect(killed).toMatchObject({ ok: false, message: 'exec echo about to go; kill -9 $$ was killed by SIGKILL: about to go', stdout: 'about to go\n' });
    expect(killed.exitCode).toBeUndefined();
    const exited = await runExec('echo fine; exit 3', EVENT, { cwd: planDir, env: {}, timeoutMs: 60_000 });
    expect(exited).toMatchObject({ ok: false, exitCode: 3, message: 'exec echo fine; exit 3 exited 3: fine' });
  });

  it('run on when onStart throws (the record is only for crash recovery)', async () => {
    const outcome = await runExec('echo ran > ran.txt', EVENT, {
      cwd: planDir,
      env: {},
      timeoutMs: 60_000,
      onStart: () => {
        throw new Error('disk full');
      },
    });
    expect(outcome).toMatchObject({ ok: true, exitCode: 0 });
    expect(readFileSync(path.join(planDir, 'ran.txt'), 'utf8')).toBe('ran\n');
  });

  it('report a missing plan folder instead of throwing', async () => {
    const outcome = await runHook(exec('true'), EVENT, { cwd: path.join(planDir, 'gone'), env: {} });
    expect(outcome).toMatchObject({ ok: false, kind: 'exec' });
    expect(outcome.message).toBe(`exec true could not start: its folder ${path.join(planDir, 'gone')} does not exist`);
  });
});
