// Where a state folder's rollout stands (none, running, finished, orphaned) and how a recovery is recorded.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootId, readProcStat } from '../../src/core/proc-stat.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { emptyArmStats } from '../../src/metrics/index.js';
import { hookRecorder, markRecovered, rolloutStanding, StateStore, stopOrphanHook } from '../../src/state/index.js';
import { deadPid, orphanHook, snapshot, tempDir } from './helpers.js';
import { withJournalEnding } from '../../src/state/reconcile.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function store(): StateStore {
  const temp = tempDir();
  cleanups.push(() => temp.cleanup());
  return new StateStore(temp.dir);
}

function lock(s: StateStore, pid: number): void {
  writeFileSync(path.join(s.dir, 'lock'), JSON.stringify({ pid, planName: 'demo', startedAt: 1, user: 'u', host: os.hostname(), token: 't' }));
}

describe('rolloutStanding', () => {
  it("orphaned when state.json's pid now names a process that started at another time (the pid given again)", async () => {
    const s = store();
    const stranger = spawn('sleep', ['600'], { stdio: 'ignore' });
    cleanups.push(() => stranger.kill());
    await once(stranger, 'spawn');
    const pid = stranger.pid as number;
    const started = readProcStat(pid)?.startTime as string;
    await s.writeState(snapshot({ pid, pidStart: `${Number(started) + 1}` }));
    expect(rolloutStanding(s).kind).toBe('orphaned');
    await s.writeState(snapshot({ pid, pidStart: started }));
    expect(rolloutStanding(s).kind).toBe('running');
    // A state.json from before session 21 (no pidStart): the pid alone.
    await s.writeState(snapshot({ pid }));
    expect(rolloutStanding(s).kind).toBe('running');
    // From another boot (session 23 records it): a start time counts from boot, so the same one names another process.
    await s.writeState(snapshot({ pid, pidStart: started, bootId: 'another-boot' }));
    expect(rolloutStanding(s).kind).toBe('orphaned');
    await s.writeState(snapshot({ pid, pidStart: started, bootId: bootId() }));
    expect(rolloutStanding(s).kind).toBe('running');
  });

  it('none without state; finished by state.json or by the journal alone', async () => {
    const s = store();
    expect(rolloutStanding(s).kind).toBe('none');
    const pid = await deadPid();
    await s.writeState(snapshot({ pid }));
    s.appendEvent({ at: 2, type: 'finished', message: 'promoted (exit 0)', data: { exitCode: 0 } });
    expect(rolloutStanding(s).kind).toBe('finished');
    await s.writeState(snapshot({ pid, phase: 'rolled_back', endedAt: 5, exitCode: 10 }));
    expect(rolloutStanding(s).kind).toBe('finished');
  });

  it('running while the lock owner lives; orphaned once it is dead', async () => {
    const s = store();
    await s.writeState(snapshot({ pid: process.pid }));
    lock(s, process.pid);
    expect(rolloutStanding(s)).toMatchObject({ kind: 'running', ownerPid: process.pid });
    // The caller's own lock (a rollback holding the folder) does not make the dead rollout alive.
    const dead = await deadPid();
    await s.writeState(snapshot({ pid: dead }));
    expect(rolloutStanding(s, { self: process.pid }).kind).toBe('orphaned');
    lock(s, dead);
    expect(rolloutStanding(s).kind).toBe('orphaned');
  });

  it("running while the snapshot's process lives, its lock gone or the caller's own (the folder moved away and made again)", async () => {
    const s = store();
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    cleanups.push(() => void child.kill('SIGKILL'));
    const pid = child.pid as number;
    await s.writeState(snapshot({ pid }));
    expect(rolloutStanding(s)).toMatchObject({ kind: 'running', ownerPid: pid });
    lock(s, process.pid);
    expect(rolloutStanding(s, { self: process.pid })).toMatchObject({ kind: 'running', ownerPid: pid });
    // The caller's own record is not another rollout.
    await s.writeState(snapshot({ pid: process.pid }));
    expect(rolloutStanding(s, { self: process.pid }).kind).toBe('orphaned');
  });

  it("an orphan carries the journal's latest stage and weight when state.json trails it", async () => {
    const s = store();
    const stages = [0.1, 0.5, 1].map((greenWeight) => ({ durationMs: 1000, greenWeight }));
    await s.writeState(snapshot({ pid: await deadPid(), updatedAt: 100, stageIndex: 0, greenWeight: 0, plan: { ...snapshot().plan, stages } }));
    s.appendEvent({ at: 101, type: 'stage_started', stage: 1, greenWeight: 0.5, message: 'stage 2/3 started' });
    expect(rolloutStanding(s)).toMatchObject({ kind: 'orphaned', snapshot: { stageIndex: 1, greenWeight: 0.5 } });
  });

  it('takes no stage or weight from a journal line that holds one out of range (the journal is checked loosely on read)', async () => {
    const s = store();
    const stages = [1, 2].map(() => ({ durationMs: 1000, greenWeight: 0.5 }));
    await s.writeState(snapshot({ pid: await deadPid(), updatedAt: 100, stageIndex: 1, greenWeight: 0.5, plan: { ...snapshot().plan, stages } }));
    for (const [at, bad] of [
      [101, { stage: 9 }],
      [102, { stage: 'x' }],
      [103, { stage: -1, greenWeight: 'x' }],
      [104, { stage: 0.5, greenWeight: 7 }],
    ] as const)
      s.appendEvent({ at, type: 'stage_started', message: 'edited', ...bad } as unknown as RolloutEvent);
    expect(rolloutStanding(s)).toMatchObject({ kind: 'orphaned', snapshot: { stageIndex: 1, greenWeight: 0.5 } });
  });
});

describe('markRecovered', () => {
  it('journals the rollback and leaves a final state on blue', async () => {
    const s = store();
    const arm = emptyArmStats();
    const stage = (index: number, verdict: 'running' | 'pending') => ({ index, greenWeight: 0.25, durationMs: 1000, verdict, arms: { blue: arm, green: arm } });
    const dead = snapshot({
      pid: await deadPid(),
      greenWeight: 0.25,
      stages: [stage(0, 'running'), stage(1, 'pending')] as unknown as ReturnType<typeof snapshot>['stages'],
    });
    await s.writeState(dead);
    markRecovered(s, dead, { now: 9, actor: 'ops@host (bluegreen rollback)', command: 'bluegreen rollback', reason: 'the process died' });
    expect(s.readState()).toMatchObject({
      phase: 'rolled_back',
      greenWeight: 0,
      endedAt: 9,
      exitCode: 5,
      recoveredBy: 'bluegreen rollback',
      reason: 'the process died',
      stages: [{ verdict: 'aborted' }, { verdict: 'skipped' }],
    });
    expect(s.readEvents().map((e) => [e.type, e.message])).toEqual([
      ['rolled_back', 'rolled back to blue by ops@host (bluegreen rollback)'],
      ['finished', 'the process died (exit 5)'],
    ]);
    // state.json missing that write, the journal's ending says who recorded it all the same (reconcile.ts).
    expect(withJournalEnding({ ...dead, updatedAt: 0 }, s.readEvents()).snapshot.recoveredBy).toBe('bluegreen rollback');
    expect(rolloutStanding(s).kind).toBe('finished');
  });
});

describe('stopOrphanHook', () => {
  /** Processes of the group that still run (an exited one the test process has not reaped yet does not). */
  const running = (pgid: number) =>
    readdirSync('/proc').filter((name) => {
      const stat = /^\d+$/.test(name) ? readProcStat(Number(name)) : undefined;
      return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
    });

  it('stops a group that ignores SIGTERM with SIGKILL, and says whose it was', async () => {
    const s = store();
    // Ignored signals stay ignored across exec: the sleep ignores SIGTERM too.
    const pgid = await orphanHook(s.dir, 'trap "" TERM; echo ready; exec sleep 600');
    // A short grace: the SIGKILL it waits for is what is tested, not the default's length.
    const said = await stopOrphanHook(s.dir, { plan: { name: 'demo' }, pid: 4242 }, 100);
    expect(said).toBe(`stopped the on_stage hook (process group ${pgid}) left running by the dead rollout`);
    expect(running(pgid)).toEqual([]);
  });

  it('stops a group that ends on SIGTERM, its children too', async () => {
    const s = store();
    const pgid = await orphanHook(s.dir, 'sleep 600 & echo ready; wait');
    expect(running(pgid)).toHaveLength(2);
    expect(await stopOrphanHook(s.dir, { plan: { name: 'demo' }, pid: 4242 })).toMatch(/^stopped the on_stage hook/);
    expect(running(pgid)).toEqual([]);
  });

  /** Rewrites hook.json's record of the group: `change` gives the fields to set (undefined removes one). */
  const rewriteRecord = (dir: string, change: Record<string, unknown>) => {
    const file = path.join(dir, 'hook.json');
    writeFileSync(file, JSON.stringify({ ...(JSON.parse(readFileSync(file, 'utf8')) as object), ...change }));
  };

  it("leaves a group whose leader started at another time than the record's, its environment naming the plan all the same", async () => {
    const s = store();
    const pgid = await orphanHook(s.dir, 'echo ready; exec sleep 600');
    expect(JSON.parse(readFileSync(path.join(s.dir, 'hook.json'), 'utf8'))).toMatchObject({ pgid, pgidStart: readProcStat(pgid)?.startTime });
    // The pgid given to another process since: its start time is not the recorded one. Until session 24 only the
    // environment was read, and where it could not be (another user's process) the group was taken for the hook.
    rewriteRecord(s.dir, { pgidStart: '1' });
    expect(await stopOrphanHook(s.dir, { plan: { name: 'demo' }, pid: 4242 })).toBeUndefined();
    expect(running(pgid)).toHaveLength(1);
  });

  it('still stops the group of a record from before start times were recorded, its environment naming the plan', async () => {
    const s = store();
    const pgid = await orphanHook(s.dir, 'echo ready; exec sleep 600');
    rewriteRecord(s.dir, { pgidStart: undefined });
    expect(await stopOrphanHook(s.dir, { plan: { name: 'demo' }, pid: 4242 })).toMatch(/^stopped the on_stage hook/);
    expect(running(pgid)).toEqual([]);
  });

  it("leaves a group whose leader is not the plan's hook (a pid reused since)", async () => {
    const s = store();
    const other = spawn('sh', ['-c', 'echo ready; exec sleep 600'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env.PATH } });
    cleanups.push(() => void process.kill(-(other.pid as number), 'SIGKILL'));
    await once(other.stdout, 'data');
    const record = hookRecorder(s.dir, { plan: 'demo', event: 'stage', stage: 2, greenWeight: 0.5, pid: 4242 });
    record.begin();
    record.started(other.pid as number);
    expect(await stopOrphanHook(s.dir, { plan: { name: 'demo' }, pid: 4242 })).toBeUndefined();
    expect(running(other.pid as number)).toHaveLength(1);
  });
});
