import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { bootId, isProcessAlive, readProcStat } from '../../src/core/proc-stat.js';
import { isOwnerAlive, LockHeldError, readLock, StateStore, type LockInfo } from '../../src/state/index.js';
import { deadPid, snapshot, tempDir } from './helpers.js';
import { killAfterTest } from '../helpers/processes.js';
import { until } from '../helpers/until.js';
import { lockOwner } from '../../src/cli/operator.js';

const HOST = 'host-a';
const STARTED = new Date(2026, 0, 2, 12, 0, 1).getTime();

let temp: ReturnType<typeof tempDir>;
beforeEach(() => {
  temp = tempDir();
});
afterEach(() => temp.cleanup());

function store(): StateStore {
  return new StateStore(temp.dir, { host: HOST, now: () => STARTED + 5000 });
}

function owner(pid: number, overrides: Partial<LockInfo> = {}): LockInfo {
  return { pid, planName: 'gpt-4o-to-gpt-4.1', startedAt: STARTED, user: 'alice', host: HOST, ...overrides };
}

function lockFile(): string {
  return path.join(temp.dir, 'lock');
}

describe('isProcessAlive', () => {
  it('knows this process is alive and a reaped child is not', async () => {
    expect(isProcessAlive({ pid: process.pid })).toBe(true);
    expect(isProcessAlive({ pid: await deadPid() })).toBe(false);
  });

  it('takes a zombie (killed, its parent never waited for it) for dead', async () => {
    // A child that runs until killed, under a parent that becomes `sleep` (exec), which never waits for children.
    // Full paths: the test environment's PATH may not hold them.
    const parent = killAfterTest(spawn('/bin/sh', ['-c', '/bin/sleep 30 & echo $!; exec /bin/sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] }));
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const child = Number(line.toString().trim());
    onTestFinished(() => {
      // Still running when the test failed before its kill (gone already if the parent died first and init reaped it).
      const state = readProcStat(child)?.state;
      if (state !== undefined && state !== 'Z') process.kill(child, 'SIGKILL');
    });
    expect(isProcessAlive({ pid: child })).toBe(true);
    // Killed while the parent is still the shell (before its exec), the shell reaps it: no zombie is left to judge.
    await until(() => readFileSync(`/proc/${parent.pid}/comm`, 'utf8').trim() === 'sleep', 'the parent shell to become sleep');
    process.kill(child, 'SIGKILL');
    await until(() => {
      const state = readProcStat(child)?.state;
      // Reaped after all (by whom?) would make the wait endless: say so instead.
      expect(state, 'the killed child is gone rather than a zombie').toBeDefined();
      return state === 'Z';
    }, 'the killed child to be a zombie');
    expect(isProcessAlive({ pid: child })).toBe(false);
    expect(isProcessAlive({ pid: parent.pid as number })).toBe(true);
  });

  it('never treats 0 or negatives (process groups for kill) as an owner', () => {
    expect(isProcessAlive({ pid: 0 })).toBe(false);
    expect(isProcessAlive({ pid: -1 })).toBe(false);
    expect(isProcessAlive({ pid: Number.NaN })).toBe(false);
  });
});

describe('acquireLock', () => {
  it('creates the lock with the owner in it and no warning', () => {
    const lock = store().acquireLock(owner(process.pid));
    expect(lock.warning).toBeUndefined();
    expect(readLock(temp.dir)).toEqual(owner(process.pid));
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).token).toMatch(/^[0-9a-f]{16}$/);
  });

  it('refuses while the owner is alive, naming it and how to stop it', () => {
    store().acquireLock(owner(process.pid));
    let error: unknown;
    try {
      store().acquireLock(owner(process.pid, { planName: 'other' }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).exitCode).toBe(2);
    expect((error as Error).message).toBe(
      `another rollout (plan "gpt-4o-to-gpt-4.1", pid ${process.pid}, started 12:00:01 by alice@host-a) holds ${lockFile()}; ` +
        `wait for it or stop it (bluegreen abort --state-dir ${temp.dir})`,
    );
  });

  it('does not repeat the host when the user already names it', () => {
    store().acquireLock(owner(process.pid, { user: 'bob@ci-runner' }));
    expect(() => store().acquireLock(owner(process.pid))).toThrow('by bob@ci-runner)');
  });

  it('presumes an owner on another host alive, since its pid cannot be checked here', async () => {
    const pid = await deadPid();
    store().acquireLock(owner(pid, { host: 'host-b' }));
    expect(() => store().acquireLock(owner(process.pid))).toThrow(/on host host-b, where bluegreen cannot check the process/);
    expect(isOwnerAlive(owner(pid, { host: 'host-b' }), HOST)).toBe(true);
    expect(isOwnerAlive(owner(pid), HOST)).toBe(false);
  });

  it('takes over the lock of a dead owner and says so', async () => {
    const pid = await deadPid();
    store().acquireLock(owner(pid));
    const lock = store().acquireLock(owner(process.pid, { planName: 'next' }));
    expect(lock.warning).toBe(`took over the lock of pid ${pid}, which is no longer running`);
    expect(readLock(temp.dir)?.planName).toBe('next');
  });

  it('warns that a dead owner left its rollout unfinished', async () => {
    const pid = await deadPid();
    // A weight between whole percents is said as the plan set it (formatWeight), not rounded to 13%.
    await store().writeState(snapshot({ pid, phase: 'progressing', stageIndex: 1, greenWeight: 0.125 }));
    store().acquireLock(owner(pid));
    const lock = store().acquireLock(owner(process.pid));
    expect(lock.warning).toContain('stopped unfinished (phase progressing, stage 2, green at 12.5%), so check where traffic stands');
  });

  it('waits out a fresh unreadable lock (it may be mid-write) but takes over an old one', () => {
    writeFileSync(lockFile(), '');
    expect(() => store().acquireLock(owner(process.pid))).toThrow(/is being written by another bluegreen/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(), old, old);
    const lock = store().acquireLock(owner(process.pid));
    expect(lock.warning).toMatch(/could not be read/);
    expect(readLock(temp.dir)?.pid).toBe(process.pid);
  });

  it('does not race another takeover in progress, and clears a guard left by a crash', async () => {
    const pid = await deadPid();
    store().acquireLock(owner(pid));
    writeFileSync(`${lockFile()}.takeover`, '999');
    expect(() => store().acquireLock(owner(process.pid))).toThrow(/taking over the stale lock/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${lockFile()}.takeover`, old, old);
    expect(store().acquireLock(owner(process.pid)).warning).toMatch(/took over the lock of pid/);
    expect(existsSync(`${lockFile()}.takeover`)).toBe(false);
  });
});

describe('release', () => {
  it('removes our lock, once', () => {
    const lock = store().acquireLock(owner(process.pid));
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
    lock.release();
    expect(store().readLock()).toBeUndefined();
  });

  it("leaves a successor's lock alone", () => {
    const lock = store().acquireLock(owner(process.pid));
    writeFileSync(lockFile(), JSON.stringify({ ...owner(process.pid, { planName: 'successor' }), token: 'someone-else' }));
    lock.release();
    expect(readLock(temp.dir)?.planName).toBe('successor');
  });
});

describe('an unusable state folder', () => {
  it('is a usage error naming the path, not a crash', () => {
    writeFileSync(path.join(temp.dir, 'file'), '');
    const dir = path.join(temp.dir, 'file', 'state');
    expect(() => new StateStore(dir).acquireLock(owner(process.pid))).toThrow(
      `cannot create the state folder ${dir}: part of the path ${dir} is a file, not a folder`,
    );
  });

  it('names a state folder that is a file (`--state-dir plan.yaml`) as such, not EEXIST', () => {
    const file = path.join(temp.dir, 'plan.yaml');
    writeFileSync(file, '');
    expect(() => new StateStore(file).acquireLock(owner(process.pid))).toThrow(`cannot create the state folder ${file}: ${file} is a file, not a folder`);
  });
});

// Before (session 20): a pid was trusted as the owner's whoever held it now: after a reboot, or pids wrapping on a busy
// machine, a dead rollout's lock (or its state.json's pid) named a living stranger, and the folder read "running"
// for good. The start time recorded with the pid tells them apart; a record without it is judged by the pid alone.
describe('a pid given to another process since', () => {
  it('is dead when its start time differs from the one recorded; a lock without one is judged by the pid', async () => {
    const stranger = killAfterTest(spawn('sleep', ['600'], { stdio: 'ignore' }));
    await once(stranger, 'spawn');
    const pid = stranger.pid as number;
    const started = readProcStat(pid)?.startTime as string;
    expect(isProcessAlive({ pid, pidStart: started })).toBe(true);
    expect(isProcessAlive({ pid, pidStart: `${Number(started) + 1}` })).toBe(false);
    expect(isProcessAlive({ pid })).toBe(true);

    writeFileSync(lockFile(), JSON.stringify({ ...owner(pid), pidStart: `${Number(started) + 1}`, token: 'x' }));
    const lock = store().acquireLock(owner(process.pid, { planName: 'next' }));
    expect(lock.warning).toBe(`took over the lock of pid ${pid}, which is no longer running`);
    lock.release();

    // An old lock (no start time) of a living pid is still held.
    writeFileSync(lockFile(), JSON.stringify({ ...owner(pid), token: 'x' }));
    expect(() => store().acquireLock(owner(process.pid))).toThrow(LockHeldError);
    expect(readLock(temp.dir)?.pidStart).toBeUndefined();
  });

  it('a lock this process takes records its start time and boot', () => {
    const info = lockOwner('plan', STARTED, {});
    expect(info.pidStart).toBe(readProcStat(process.pid)?.startTime);
    expect(info.bootId).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    store().acquireLock(info);
    expect(readLock(temp.dir)).toMatchObject({ pidStart: info.pidStart, bootId: info.bootId });
  });

  // Before (session 22): a start time counts from boot, so after a reboot a recorded pid and start time could both
  // match a new process. The boot recorded with them tells the boots apart.
  it('is dead when its record names another boot, whatever its pid and start time; a record without one is judged as before', () => {
    const self = { pid: process.pid, pidStart: readProcStat(process.pid)?.startTime as string };
    expect(isProcessAlive({ ...self, bootId: bootId() })).toBe(true);
    expect(isProcessAlive({ ...self, bootId: 'another-boot' })).toBe(false);
    expect(isProcessAlive(self)).toBe(true);

    writeFileSync(lockFile(), JSON.stringify({ ...owner(process.pid), ...self, bootId: 'another-boot', token: 'x' }));
    expect(isOwnerAlive(readLock(temp.dir) as LockInfo, HOST)).toBe(false);
    const lock = store().acquireLock(owner(process.pid, { planName: 'next' }));
    expect(lock.warning).toBe(`took over the lock of pid ${process.pid}, which is no longer running`);
  });
});
