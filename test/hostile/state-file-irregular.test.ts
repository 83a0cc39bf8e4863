// state.json or events.jsonl replaced by a named pipe, a link to /dev/zero or a runaway file: found by hostile29,
// `bluegreen status` waited for a writer of the pipe for good, and read /dev/zero until it held 1.4 GB (then more).
// Each is refused at once, naming the file and what it is (exit 2). The CLI runs as a child, so a hang is cut by the
// timeout instead of blocking the test worker.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { MAX_STATE_BYTES, StateStore } from '../../src/state/store.js';
import { simulatedPlan, writePlan } from '../helpers/plans.js';
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

it('a rollout refuses a lock that is a named pipe (exit 2) before anything moves', async () => {
  const store = await stateFolder();
  rmSync(store.statePath);
  execFileSync('mkfifo', [path.join(store.dir, 'lock')]);
  const plan = writePlan(simulatedPlan('fifo-lock', '1s', 0.5), store.dir);
  const run = spawnSync(process.execPath, [BIN, 'rollout', plan, '--plain', '--state-dir', store.dir], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH },
  });
  expect(run.signal, 'rollout hung').toBeNull();
  expect(run.stderr).toContain(`${path.join(store.dir, 'lock')} is a named pipe, not a regular file: not a lock bluegreen wrote`);
  expect(run.stderr).not.toContain('internal error');
  expect(run.status).toBe(2);
});

it("a proxy's proxy.json and proxy-route.json that are named pipes read as none (blue), without waiting on them", () => {
  const folder = tempDir();
  cleanups.push(() => folder.cleanup());
  execFileSync('mkfifo', [path.join(folder.dir, 'proxy.json')]);
  execFileSync('mkfifo', [path.join(folder.dir, 'proxy-route.json')]);
  const dist = (file: string) => JSON.stringify(pathToFileURL(path.resolve(import.meta.dirname, '../../dist', file)).href);
  const script = `
    const { readProxyInfo } = await import(${dist('proxy/discovery.js')});
    const { RouteFile } = await import(${dist('proxy/route-file.js')});
    const dir = ${JSON.stringify(folder.dir)};
    console.log(JSON.stringify({ info: readProxyInfo(dir) ?? null, route: new RouteFile(dir).read(undefined) ?? null }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect(run.signal, 'reading the state folder hung').toBeNull();
  expect(JSON.parse(run.stdout)).toEqual({ info: null, route: null });
});
