// A state folder that cannot be made. Node's recursive mkdir retries forever at full CPU where mkdir answers
// ENOENT for a folder whose parent exists (under /proc), and calls a read-only file system ENOENT ("the folder
// does not exist"): found by hostile11, `rollout --state-dir /proc/x/y` hung, and a read-only mount was said
// not to exist. The CLI runs as a child, so a hang is cut by the timeout instead of blocking the test worker.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/bluegreen.js');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

it.skipIf(!existsSync('/proc/self'))('rollout and proxy refuse a state folder that cannot be made (exit 2), at once', () => {
  const dir = tempDir();
  dirs.push(dir);
  const plan = writePlan(`${simulatedPlan('unmakeable', '1s', 0.5)}proxy: {}\n`, dir);
  const stateDir = `/proc/bluegreen-hostile-${process.pid}/state`;
  for (const args of [
    ['rollout', plan, '--plain'],
    ['proxy', plan, '--listen', '127.0.0.1:0'],
  ]) {
    const run = spawnSync(process.execPath, [BIN, ...args, '--state-dir', stateDir], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env.PATH },
    });
    expect(run.signal, `${args[0]} hung`).toBeNull();
    expect(run.stderr).toContain(stateDir);
    // Why, as docs/operations.md says it: not "the folder /proc/... does not exist", the one thing being made.
    expect(run.stderr).toContain(`no folder can be made in /proc`);
    expect(run.status).toBe(2);
  }
});
