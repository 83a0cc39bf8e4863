// hook.json: a call's record is removed when it finishes, unless another call (an ending's move, recorded while a
// slow stage move was still under way) has replaced it meanwhile: that one must survive for status and rollback.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearHookRecord, hookRecorder, readHookInFlight, readRecoveryHook, stopOrphanHook } from '../../src/state/hook-record.js';
import { greenAfterDeath } from '../../src/state/hook-words.js';
import { tempDir } from '../helpers/plans.js';

const rollout = { plan: { name: 'p', stages: [1, 2, 3] }, pid: 4242 };

describe('hook.json records', () => {
  it('say the weights a dead rollout left as the plan set them, not rounded to whole percents', () => {
    const died = { greenWeight: 0.125, stageIndex: 1, plan: { stages: [{ greenWeight: 0.125 }, { greenWeight: 0.125 }] } };
    expect(greenAfterDeath(died, { event: 'stage', stage: 2, greenWeight: 0.005, running: true })).toBe(
      "12.5% or 0.5% (its on_stage hook setting stage 2's 0.5% green was running when it died, and still runs)",
    );
    expect(greenAfterDeath(died, { event: 'stage', stage: 2, greenWeight: 0.995, by: 'proxies' })).toBe(
      "12.5% or 99.5% (its move of the proxies to stage 2's 99.5% green was under way when it died)",
    );
    expect(greenAfterDeath({ ...died, greenWeight: 0 }, { event: 'rollback', stage: 2, greenWeight: 0 })).toBe(
      '0% or still 12.5% (its rollback hook putting traffic back on blue was running when it died)',
    );
  });

  it("keep the process's start time beside its pid, so a pid given to another process since is not taken for it", () => {
    const dir = tempDir();
    hookRecorder(dir, { plan: 'p', event: 'rollback', stage: 1, greenWeight: 0, pid: 5151, pidStart: '777', recovery: 'bluegreen rollback' }).begin();
    expect(readRecoveryHook(dir, rollout)).toEqual({ pid: 5151, pidStart: '777', command: 'bluegreen rollback' });
  });

  // Before (session 22): a record was the rollout's by its pid alone, so one left by an earlier process given the same
  // pid since (a reboot) read as this rollout's hook, and status said where its weight may be from another run.
  it("is the rollout's only when its pid, start time and boot all agree where both say", () => {
    const dir = tempDir();
    const started = { ...rollout, pidStart: '777', bootId: 'this-boot' };
    const record = (identity: { pidStart?: string; bootId?: string }) =>
      hookRecorder(dir, { plan: 'p', event: 'stage', stage: 2, greenWeight: 0.5, pid: 4242, ...identity }).begin();
    record({ pidStart: '778', bootId: 'this-boot' });
    expect(readHookInFlight(dir, started)).toBeUndefined();
    record({ pidStart: '777', bootId: 'another-boot' });
    expect(readHookInFlight(dir, started)).toBeUndefined();
    // A recovery's record by the same pid in another boot is a recovery's, not the rollout's own.
    hookRecorder(dir, {
      plan: 'p',
      event: 'rollback',
      stage: 1,
      greenWeight: 0,
      pid: 4242,
      pidStart: '777',
      bootId: 'another-boot',
      recovery: 'bluegreen rollback',
    }).begin();
    expect(readRecoveryHook(dir, started)).toMatchObject({ pid: 4242, bootId: 'another-boot' });
    for (const identity of [{ pidStart: '777', bootId: 'this-boot' }, { pidStart: '777' }, {}]) {
      record(identity);
      expect(readHookInFlight(dir, started)).toMatchObject({ event: 'stage', stage: 2 });
    }
  });

  it('is removed when its call finishes', () => {
    const dir = tempDir();
    const stage = hookRecorder(dir, { plan: 'p', event: 'stage', stage: 2, greenWeight: 0.5, pid: 4242, by: 'proxies' });
    stage.begin();
    expect(readHookInFlight(dir, rollout)).toMatchObject({ event: 'stage', stage: 2 });
    stage.finished();
    expect(existsSync(path.join(dir, 'hook.json'))).toBe(false);
  });

  it("keeps a later call's record when an earlier call finishes after it began", () => {
    const dir = tempDir();
    const stage = hookRecorder(dir, { plan: 'p', event: 'stage', stage: 2, greenWeight: 0.5, pid: 4242, by: 'proxies' });
    const ending = hookRecorder(dir, { plan: 'p', event: 'rollback', stage: 2, greenWeight: 0, pid: 4242, by: 'proxies' });
    stage.begin();
    ending.begin();
    stage.finished();
    expect(readHookInFlight(dir, rollout)).toEqual({ event: 'rollback', stage: 2, greenWeight: 0, by: 'proxies' });
    ending.finished();
    expect(existsSync(path.join(dir, 'hook.json'))).toBe(false);
  });

  // loose18: a recovery removed the dead rollout's record before it ran (stopOrphanHook), so after a recovery that
  // failed, status no longer said a promotion was under way when the rollout died.
  it("keeps the dead rollout's record through a recovery, its own hook's record written over it and then put back", async () => {
    const dir = tempDir();
    const promotion = { event: 'promote', stage: 3, greenWeight: 1, by: 'proxies' };
    hookRecorder(dir, { plan: 'p', event: 'promote', stage: 3, greenWeight: 1, pid: 4242, by: 'proxies' }).begin();
    // The rollout died there: a recovery (another process) stops what it left running, and keeps the record.
    expect(await stopOrphanHook(dir, rollout)).toBeUndefined();
    expect(readHookInFlight(dir, rollout)).toEqual(promotion);
    const recovery = hookRecorder(dir, { plan: 'p', event: 'rollback', stage: 3, greenWeight: 0, pid: 5151, recovery: 'bluegreen rollback' });
    recovery.begin();
    // While the recovery's hook runs (or after the recovery was killed), both are said.
    expect(readHookInFlight(dir, rollout)).toEqual(promotion);
    expect(readRecoveryHook(dir, rollout)).toEqual({ pid: 5151, command: 'bluegreen rollback' });
    // A recovery killed there: the next one stops its hook and puts the dead rollout's record back.
    expect(await stopOrphanHook(dir, rollout)).toBeUndefined();
    expect(readRecoveryHook(dir, rollout)).toBeUndefined();
    expect(readHookInFlight(dir, rollout)).toEqual(promotion);
    // The next recovery's hook ends (it failed, say): the dead rollout's record is back, for status.
    const again = hookRecorder(dir, { plan: 'p', event: 'rollback', stage: 3, greenWeight: 0, pid: 6262, recovery: 'bluegreen rollback' });
    again.begin();
    again.finished();
    expect(readHookInFlight(dir, rollout)).toEqual(promotion);
    expect(readRecoveryHook(dir, rollout)).toBeUndefined();
    // Once a recovery has finished, the record goes.
    clearHookRecord(dir);
    expect(existsSync(path.join(dir, 'hook.json'))).toBe(false);
  });

  it('removes a record of another plan when stopping what the dead rollout left', async () => {
    const dir = tempDir();
    hookRecorder(dir, { plan: 'other', event: 'promote', stage: 3, greenWeight: 1, pid: 4242 }).begin();
    expect(await stopOrphanHook(dir, rollout)).toBeUndefined();
    expect(existsSync(path.join(dir, 'hook.json'))).toBe(false);
  });
});
