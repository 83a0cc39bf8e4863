// hook.json: a call's record is removed when it finishes, unless another call (an ending's move, recorded while a
// slow stage move was still under way) has replaced it meanwhile: that one must survive for status and rollback.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hookRecorder, readHookInFlight } from '../../src/state/hook-record.js';
import { tempDir } from '../helpers/plans.js';

const rollout = { plan: { name: 'p', stages: [1, 2, 3] }, pid: 4242 };

describe('hook.json records', () => {
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
});
