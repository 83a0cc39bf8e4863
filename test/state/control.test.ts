import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { CliError } from '../../src/core/exit.js';
import { controlTargetCheck, readLock, StateStore, takeControlRequests, watchControl, writeControl, type ControlRequest } from '../../src/state/index.js';
import { catchError, deadPid, tempDir } from './helpers.js';

let temp: ReturnType<typeof tempDir>;
beforeEach(() => {
  temp = tempDir();
});
afterEach(() => temp.cleanup());

function request(action: ControlRequest['action'], at: number): ControlRequest {
  return { action, user: 'alice', host: 'host-a', pid: 4242, at };
}

describe('control requests', () => {
  it('are taken in time order, once, and deleted', () => {
    writeControl(temp.dir, request('resume', 3000));
    writeControl(temp.dir, request('pause', 1000));
    writeControl(temp.dir, request('abort', 2000));
    writeControl(temp.dir, request('promote', 2000));
    const warnings: string[] = [];
    const taken = takeControlRequests(temp.dir, (w) => warnings.push(w));
    expect(taken.map((r) => r.action)).toEqual(['pause', 'abort', 'promote', 'resume']);
    expect(taken[0]).toEqual(request('pause', 1000));
    expect(readdirSync(path.join(temp.dir, 'control'))).toEqual([]);
    expect(takeControlRequests(temp.dir, (w) => warnings.push(w))).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('is empty when nothing was ever asked', () => {
    expect(new StateStore(temp.dir).takeControlRequests()).toEqual([]);
  });

  it('skips invalid files with a warning (and deletes them) and ignores temp files', () => {
    const folder = path.join(temp.dir, 'control');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, '000000000000001-bad.json'), '{"action":"explode","user":"a","host":"h","pid":1,"at":1}');
    writeFileSync(path.join(folder, '000000000000002-torn.json'), '{"action":');
    writeFileSync(path.join(folder, '.000000000000003-x.json.tmp'), 'partial');
    writeControl(temp.dir, request('pause', 5));
    const warnings: string[] = [];
    const store = new StateStore(temp.dir, { warn: (w) => warnings.push(w) });
    expect(store.takeControlRequests().map((r) => r.action)).toEqual(['pause']);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('000000000000001-bad.json: not a valid request');
    expect(readdirSync(folder)).toEqual(['.000000000000003-x.json.tmp']);
  });

  it('are delivered by watchControl on the injected timer until stopped', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const watch = watchControl(temp.dir, (r) => seen.push(r.action), { timers: clock, warn: () => {} });
    writeControl(temp.dir, request('pause', 1));
    await clock.advance(250);
    expect(seen).toEqual(['pause']);
    writeControl(temp.dir, request('resume', 2));
    await clock.advance(250);
    expect(seen).toEqual(['pause', 'resume']);
    watch.stop();
    writeControl(temp.dir, request('abort', 3));
    await clock.advance(1000);
    expect(seen).toEqual(['pause', 'resume']);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('controlTargetCheck', () => {
  it('says when no rollout is running', () => {
    const error = catchError(() => controlTargetCheck(temp.dir, readLock(temp.dir), 'host-a'));
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as Error).message).toBe(`no rollout is running in ${temp.dir}`);
  });

  it("says when the lock's owner is gone", async () => {
    const pid = await deadPid();
    new StateStore(temp.dir, { host: 'host-a' }).acquireLock({ pid, planName: 'p', startedAt: 1, user: 'alice', host: 'host-a' });
    expect(() => controlTargetCheck(temp.dir, readLock(temp.dir), 'host-a')).toThrow(`the rollout in ${temp.dir} (pid ${pid}) is no longer running`);
  });

  it('returns the running owner', () => {
    new StateStore(temp.dir, { host: 'host-a' }).acquireLock({ pid: process.pid, planName: 'p', startedAt: 1, user: 'alice', host: 'host-a' });
    expect(controlTargetCheck(temp.dir, readLock(temp.dir), 'host-a')).toMatchObject({ pid: process.pid, planName: 'p' });
    expect(existsSync(path.join(temp.dir, 'control'))).toBe(false);
  });
});
