// state.json or events.jsonl replaced by a named pipe, a link to /dev/zero or a runaway file: found by hostile29,
// `bluegreen status` waited for a writer of the pipe for good, and read /dev/zero until it held 1.4 GB (then more).
// Each is refused at once, naming the file and what it is (exit 2). The CLI runs as a child, so a hang is cut by the
// timeout instead of blocking the test worker.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { MAX_STATE_BYTES, StateStore } from '../../src/state/store.js';
import { snapshot, tempDir } from '../state/helpers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/bluegreen.js');
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function status(dir: string): ReturnType<typeof spawnSync> & { stderr: string } {
  const run = spawnSync(process.execPath, [BIN, 'status', '--state-dir', dir], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH },
  });
  expect(run.signal, 'status hung').toBeNull();
  return run;
}

async function stateFolder(): Promise<StateStore> {
  const folder = tempDir();
  cleanups.push(() => folder.cleanup());
  const store = new StateStore(folder.dir);
  // Unfinished, so status reads the journal too; its pid is gone, as after a crash.
  await store.writeState(snapshot({ pid: 999_999_999 }));
  writeFileSync(store.eventsPath, '');
  return store;
}

it.skipIf(!existsSync('/dev/zero'))('status refuses a state.json that is a named pipe, a device or far too large (exit 2), at once', async () => {
  const cases: [string, (file: string) => void, string][] = [
    ['a named pipe', (file) => execFileSync('mkfifo', [file]), 'it is a named pipe, not a file bluegreen wrote'],
    ['a link to /dev/zero', (file) => symlinkSync('/dev/zero', file), 'it is a device, not a file bluegreen wrote'],
    ['a runaway file', (file) => truncateSync(file, MAX_STATE_BYTES + 1), 'it is larger than 64 MiB'],
  ];
  for (const [name, make, why] of cases) {
    const store = await stateFolder();
    if (name !== 'a runaway file') rmSync(store.statePath);
    make(store.statePath);
    const run = status(store.dir);
    expect(run.stderr, name).toContain(`cannot read ${store.statePath}: ${why}`);
    expect(run.stderr, name).not.toMatch(/\n\s+at /);
    expect(run.status, name).toBe(2);
  }
});

it('status refuses an events.jsonl that is a named pipe (exit 2), at once', async () => {
  const store = await stateFolder();
  rmSync(store.eventsPath);
  execFileSync('mkfifo', [store.eventsPath]);
  const run = status(store.dir);
  expect(run.stderr).toContain(`cannot read ${store.eventsPath}: it is a named pipe, not a file bluegreen wrote`);
  expect(run.status).toBe(2);
});
