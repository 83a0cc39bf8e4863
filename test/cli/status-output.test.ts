// `status` whose output cannot be written (`> /dev/full`, a reader that went away) says so and exits 2, rather
// than exit 0 (or, with --watch, the rollout's own code) having shown nothing. The real binary, real descriptors.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { tempDir } from '../helpers/plans.js';
import { deadPid, event, snapshot } from '../state/helpers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/bluegreen.js');
const opened: number[] = [];

afterEach(() => {
  for (const fd of opened.splice(0)) closeSync(fd);
});

function stateFolder(state: RolloutSnapshot): string {
  const cwd = tempDir();
  mkdirSync(path.join(cwd, 'st'));
  writeFileSync(path.join(cwd, 'st', 'state.json'), JSON.stringify(state));
  return cwd;
}

const rolledBack = snapshot({
  phase: 'rolled_back',
  endedAt: 1_700_000_002_000,
  exitCode: 10,
  greenWeight: 0,
  reason: 'green error_rate 30% > 5%',
  recentEvents: [
    { at: 1_700_000_002_000, type: 'finished', message: 'rolled back: green error_rate 30% > 5% (exit 10)', data: { phase: 'rolled_back', exitCode: 10 } },
  ],
});

/** `bluegreen status ARGS > /dev/full`. */
function toFullDevice(args: string[], cwd: string): { status: number | null; stderr: string } {
  const full = openSync('/dev/full', 'w');
  opened.push(full);
  const result = spawnSync(process.execPath, [BIN, 'status', '--state-dir', 'st', ...args], {
    cwd,
    stdio: ['ignore', full, 'pipe'],
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
    timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('status with an output that cannot be written', () => {
  it.each([[[]], [['--json']], [['--watch']], [['--watch', '--json']]])("status %j > /dev/full: exit 2 with a sentence, not the rollout's code", (args) => {
    const cwd = stateFolder(rolledBack);
    const result = toFullDevice(args, cwd);
    expect(result.stderr).toMatch(/^bluegreen: status( --watch)? could not be written to stdout \(no space left on the device it writes to\)/);
    expect(result.status).toBe(2);
  });

  it('status > /dev/full on a rollout whose process died still says so and exits 5: the death matters more than the output', async () => {
    // A script checking for exit 5 (run bluegreen rollback) must not read 2 because its stdout was unwritable.
    const cwd = stateFolder(snapshot({ pid: await deadPid(), recentEvents: [event(1_700_000_000_500, 'stage 1 started')] }));
    const result = toFullDevice([], cwd);
    expect(result.stderr).toMatch(/^bluegreen: status could not be written to stdout \(no space left on the device it writes to\)/);
    expect(result.stderr).toContain('bluegreen rollback');
    expect(result.status).toBe(5);
  });

  // Before: --watch (whose loop wrote before it looked for a dead owner) and a dead rollout known from its journal
  // alone (state.json lost, or never written) exited 2 here.
  it.each([[['--watch']], [['--watch', '--json']], [['--json']]])('status %j > /dev/full on a rollout whose process died exits 5 too', async (args) => {
    const cwd = stateFolder(snapshot({ pid: await deadPid(), recentEvents: [event(1_700_000_000_500, 'stage 1 started')] }));
    const result = toFullDevice(args, cwd);
    expect(result.stderr).toMatch(/^bluegreen: status( --watch)? could not be written to stdout \(no space left on the device it writes to\)/);
    expect(result.stderr).toContain('bluegreen rollback');
    expect(result.status).toBe(5);
  });

  it.each([
    ['killed before its first record', [{ at: 1_700_000_000_000, type: 'rollout_started', stage: 0, greenWeight: 0, message: 'rollout "demo" started' }]],
    [
      'its state.json lost after it moved traffic',
      [
        { at: 1_700_000_000_000, type: 'rollout_started', stage: 0, greenWeight: 0, message: 'rollout "demo" started' },
        { at: 1_700_000_000_500, type: 'stage_started', stage: 0, greenWeight: 0.5, message: 'stage 1/2 started: 50% green for 10s' },
      ],
    ],
  ])('status > /dev/full on a dead rollout %s (known from its journal alone) exits 5', (_what, lines) => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, 'st'));
    writeFileSync(path.join(cwd, 'st', 'events.jsonl'), lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
    for (const args of [[], ['--json']]) {
      const result = toFullDevice(args, cwd);
      expect(result.stderr).toMatch(/^bluegreen: status could not be written to stdout/);
      expect(result.stderr).toContain('bluegreen rollback');
      expect(result.status).toBe(5);
    }
  });

  it('status --watch whose reader went away stops at its next line (exit 2) instead of following the rollout unseen', async () => {
    // A running rollout (its owner, this test's process, is alive): the watch would follow it until it ends.
    const cwd = stateFolder(snapshot({ recentEvents: [event(1_700_000_000_500, 'stage 1 started')] }));
    const child = spawn(process.execPath, [BIN, 'status', '--state-dir', 'st', '--watch', '--interval', '100'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'close', not 'exit': the exit can be seen before the last of stderr (the line asserted) is read.
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // The first line arrives; then the reader goes away, and a new event is journaled for the watch to print.
      await new Promise((resolve) => child.stdout.once('data', resolve));
      child.stdout.destroy();
      // Renamed into place, as the rollout writes it: the watch polling mid-write would read a file cut short.
      const next = path.join(cwd, 'st', '.state.json.next');
      writeFileSync(next, JSON.stringify(snapshot({ recentEvents: [event(1_700_000_000_500, 'stage 1 started'), event(1_700_000_000_900, 'a warning')] })));
      renameSync(next, path.join(cwd, 'st', 'state.json'));
      expect(await exited).toBe(2);
      expect(stderr).toMatch(/^bluegreen: status --watch could not be written to stdout \(its reader went away\): stopped watching/);
    } finally {
      child.kill();
    }
  });
});
