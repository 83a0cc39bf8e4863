// A full disk: reports and state.json are written whole or fail loudly, never cut short in silence.
// Needs a small tmpfs (root and mount(8)); skipped with a message where one cannot be mounted.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildReport, ReportWriteError, writeReports } from '../../../src/report/outcome/index.js';
import { rolloutStanding, StateStore } from '../../../src/state/index.js';
import { runCli } from '../../helpers/cli.js';
import { simulatedPlan, simulatedStagesPlan, tempDir } from '../../helpers/plans.js';
import { deadPid, snapshot } from '../../state/helpers.js';
import { loadTestPlan, rolledBackSnapshot } from './fixtures.js';

const mountPoint = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-tmpfs-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint], { encoding: 'utf8' }).status === 0;
if (!mounted) console.warn(`disk-full tests skipped: cannot mount a 64k tmpfs at ${mountPoint} (needs root and mount)`);

const plan = loadTestPlan();
const report = buildReport({ snapshot: rolledBackSnapshot(plan), plan, version: '1' });
/** Leaves about this much room on the tmpfs: less than the report or state needs. */
const ROOM = 6 * 1024;

function fill(room = ROOM): void {
  rmSync(path.join(mountPoint, 'filler'), { force: true });
  const { bavail, bsize } = statfsSync(mountPoint);
  writeFileSync(path.join(mountPoint, 'filler'), Buffer.alloc(Math.max(0, bavail * bsize - room)));
}

describe.skipIf(!mounted)('a full disk', () => {
  beforeAll(() => expect(JSON.stringify(report).length).toBeGreaterThan(ROOM));
  beforeEach(() => {
    for (const name of readdirSync(mountPoint)) rmSync(path.join(mountPoint, name), { recursive: true, force: true });
  });
  afterAll(() => {
    spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('a JSON or JUnit report that does not fit is an error naming the full disk, and no partial file is left', () => {
    fill();
    let error: unknown;
    try {
      writeReports({ report, jsonFile: 'r.json', junitFile: 'r.xml', cwd: mountPoint, env: {}, stdout: { write: () => true } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReportWriteError);
    expect((error as ReportWriteError).message).toContain(`cannot write the JSON report to ${path.join(mountPoint, 'r.json')}: the disk is full`);
    expect(readdirSync(mountPoint)).toEqual(['filler']);
  });

  it('a step summary that does not fit is an error too', () => {
    fill();
    const summary = path.join(mountPoint, 'summary.md');
    expect(() =>
      writeReports({
        report: { ...report, plan: { ...report.plan, name: 'x'.repeat(2 * ROOM) } },
        cwd: mountPoint,
        env: { GITHUB_STEP_SUMMARY: summary },
        stdout: { write: () => true },
      }),
    ).toThrow('the disk is full');
  });

  it('a rollout on a full disk says so, and status shows how it ended (from the journal), not a stale state.json', async () => {
    const dir = tempDir();
    // Stages of 1 s with min_requests 1 warn of nothing: 300 ms stages warned of too few requests, and since start
    // warnings are journaled (c380ed2) those lines took the first state.json's room (a page of this 64k tmpfs).
    const stages = [
      { duration: '1s', weight: 0.5 },
      { duration: '1s', weight: 1 },
    ];
    writeFileSync(path.join(dir, 'plan.yaml'), simulatedStagesPlan('full-disk', stages, { analysis: '{ on_unjudged: promote, min_requests: 1 }' }));
    // Room for the lock, the journal and a first state.json; not for the growing state.json nor the report.
    fill(12 * 1024);
    const stateDir = path.join(mountPoint, 'st');
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', stateDir, '--report-json', path.join(mountPoint, 'r.json')], { cwd: dir });
    expect(rollout.stderr).toContain('state.json could not be written (ENOSPC');
    expect(rollout.stderr).toContain('cannot write the JSON report to');
    expect(rollout.stderr).toContain('the disk is full');
    // A promotion whose report could not be written does not pass as a success.
    expect(rollout.code).toBe(2);
    expect((JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { phase: string }).phase).not.toBe('promoted');
    const status = await runCli(['status', '--json', '--state-dir', stateDir], { cwd: dir });
    expect(JSON.parse(status.stdout)).toMatchObject({ phase: 'promoted', exitCode: 0 });
  });

  it('a rollout whose record cannot be written at all refuses to start (exit 2) rather than run with none', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'plan.yaml'), simulatedPlan('no-room', '300ms', 0.5));
    const stateDir = path.join(mountPoint, 'st');
    mkdirSync(stateDir);
    // Room for the lock (one tmpfs page) only: no state.json could exist to recover from after a kill -9.
    fill(4096);
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', stateDir], { cwd: dir });
    expect(rollout.stderr).toContain(`cannot write the rollout's state in ${stateDir} (the disk is full); nothing was started`);
    expect(rollout.stderr).not.toContain('internal error');
    expect(rollout.code).toBe(2);
    expect(readdirSync(stateDir).filter((name) => name !== 'events.jsonl' || readFileSync(path.join(stateDir, name), 'utf8') !== '')).toEqual([]);
  });

  it('a first state.json that no longer fits once the journal began stops the rollout, saying only that', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'plan.yaml'), simulatedPlan('room-for-the-check', '300ms', 0.5));
    const stateDir = path.join(mountPoint, 'st');
    mkdirSync(stateDir);
    // One tmpfs page for the lock, one for the start's check of state.json: the journal's first line then takes it.
    fill(2 * 4096);
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', stateDir], { cwd: dir });
    expect(rollout.stderr).toContain('state.json could not be written (ENOSPC: no space left on device');
    expect(rollout.stderr).toContain('a rollout does not run without a record to recover from; nothing was moved');
    // Not first "the rollout goes on", then that it does not run.
    expect(rollout.stderr).not.toContain('goes on');
    expect(rollout.code).toBe(2);
  });

  it('a lock that cannot be written refuses the start (exit 2) naming the full disk, and leaves no empty lock behind', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'plan.yaml'), simulatedPlan('no-room-at-all', '300ms', 0.5));
    const stateDir = path.join(mountPoint, 'st');
    mkdirSync(stateDir);
    fill(0);
    const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', stateDir], { cwd: dir });
    expect(rollout.stderr).toContain(`cannot write ${path.join(stateDir, 'lock')}: the disk is full`);
    expect(rollout.stderr).not.toContain('ENOSPC');
    expect(rollout.code).toBe(2);
    expect(readdirSync(stateDir)).not.toContain('lock');
  });

  it('a journal line that does not fit is cut back whole: the next one, once there is room, is read (hostile30)', () => {
    const store = new StateStore(path.join(mountPoint, 'st'));
    store.appendEvent({ at: 1, type: 'warning', message: 'first' });
    const before = statSync(store.eventsPath).size;
    fill(0);
    // Longer than the room left in the journal's last page: the write takes what fits, then fails (ENOSPC).
    expect(() => store.appendEvent({ at: 2, type: 'warning', message: 'x'.repeat(3 * 4096) })).toThrow(/ENOSPC/);
    expect(statSync(store.eventsPath).size).toBe(before);
    rmSync(path.join(mountPoint, 'filler'));
    store.appendEvent({ at: 3, type: 'warning', message: 'after the disk had room again' });
    // A torn line left behind would take the next event with it: both on one line, neither read.
    expect(store.readEvents().map((event) => event.message)).toEqual(['first', 'after the disk had room again']);
  });

  it('a "finished" line with no room whole is journaled with its reason cut, so status still reads the ending (hostile30)', async () => {
    const store = new StateStore(path.join(mountPoint, 'st'));
    // state.json's last write, long before the end (its later writes failed on the full disk).
    await store.writeState(snapshot({ pid: await deadPid(), phase: 'progressing', updatedAt: 1 }));
    store.appendEvent({ at: 2, type: 'stage_started', stage: 0, greenWeight: 0.1, message: 'stage 1/1 started' });
    fill(0);
    const reason = `rolled back: ${"a long reason quoting a proxy's answer ".repeat(200)}(exit 10)`;
    store.appendEvent({ at: 3, type: 'finished', stage: 0, greenWeight: 0, message: reason, data: { phase: 'rolled_back', exitCode: 10 } });
    const finished = store.readEvents().at(-1);
    expect(finished).toMatchObject({ type: 'finished', data: { phase: 'rolled_back', exitCode: 10 } });
    expect(finished?.message).toMatch(/^rolled back: a long reason .*… \(cut: the disk had no room for the whole line\)$/);
    expect(rolloutStanding(store)).toMatchObject({ kind: 'finished', snapshot: { phase: 'rolled_back', exitCode: 10 } });
  });

  it('a rollout sets room aside for its finished line: written whole when the disk filled before it (hostile30)', () => {
    const store = new StateStore(path.join(mountPoint, 'st'));
    store.appendEvent({ at: 1, type: 'stage_started', stage: 0, greenWeight: 0.5, message: 'stage 1/1 started' });
    store.setRoomAside();
    fill(0);
    // The journal's lines take what room its last page had left, until one no longer fits.
    let at = 2;
    expect(() => {
      for (; at < 1000; at++) store.appendEvent({ at, type: 'warning', message: `line ${at} ${'w'.repeat(60)}` });
    }).toThrow(/ENOSPC/);
    const reason = `rolled back to blue: green error_rate ${'quoting its upstream at length '.repeat(40)}(exit 10)`;
    store.appendEvent({ at: at + 1, type: 'finished', stage: 0, greenWeight: 0, message: reason, data: { phase: 'rolled_back', exitCode: 10 } });
    expect(store.readEvents().at(-1)).toMatchObject({ type: 'finished', message: reason, data: { phase: 'rolled_back', exitCode: 10 } });
    // Given back: nothing of the room is left once the rollout has ended.
    expect(readdirSync(store.dir).sort()).toEqual(['events.jsonl']);
  });

  it('state.json that does not fit fails the write and leaves the previous state.json whole', async () => {
    const store = new StateStore(path.join(mountPoint, 'st'));
    await store.writeState(snapshot());
    fill();
    const big = snapshot({
      phase: 'rolled_back',
      recentEvents: Array.from({ length: 100 }, (_, i) => ({ at: i, type: 'warning' as const, message: 'y'.repeat(200) })),
    });
    await expect(store.writeState(big)).rejects.toThrow(/ENOSPC/);
    expect(store.readState()?.phase).toBe('progressing');
    expect(readdirSync(store.dir)).toEqual(['state.json']);
    expect(JSON.parse(readFileSync(store.statePath, 'utf8'))).toMatchObject({ phase: 'progressing' });
  });
});

it('a rollout sets that room aside once its record exists, and gives it back at its end (hostile30)', async () => {
  const dir = tempDir();
  const stateDir = path.join(dir, 'st');
  const listing = path.join(dir, 'listing');
  // Stage 2's hook runs well after the first state.json: it lists what the folder holds while the rollout runs.
  const hooks = `hooks:\n  on_stage: { exec: "[ $BLUEGREEN_STAGE = 2 ] && ls -A ${stateDir} > ${listing} || true" }\n`;
  writeFileSync(path.join(dir, 'plan.yaml'), `${simulatedPlan('room', '300ms', 0.5)}${hooks}`);
  const rollout = await runCli(['rollout', 'plan.yaml', '--plain', '--state-dir', stateDir], { cwd: dir });
  expect(rollout.stderr).toContain('bluegreen: exit');
  expect(readFileSync(listing, 'utf8').split('\n')).toContain('.ending-room');
  expect(readdirSync(stateDir)).not.toContain('.ending-room');
});
