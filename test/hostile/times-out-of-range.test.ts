// Times past what a Date holds (8.64e15 ms) in the files bluegreen reads back: found by hostile32. A hand-edited
// state.json (startedAt 9e15), a journal line (at 1e308) or a proxy's route file (updatedAt 1e308) made `status`, and a
// live rollout's start, fail with "internal error (a bug): Invalid time value" (exit 1) where printing the time. Each
// is now a bad file like any other: state.json refused by key (exit 2), the journal line skipped, the route not
// applied (blue is served).
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { StateStore } from '../../src/state/index.js';
import { RouteFile } from '../../src/proxy/route-file.js';
import { ROUTE_FILE } from '../../src/proxy/route.js';
import { runCli } from '../helpers/cli.js';
import { deadPid, snapshot, tempDir } from '../state/helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function folder(): string {
  const temp = tempDir();
  cleanups.push(() => temp.cleanup());
  return temp.dir;
}

it('status refuses a state.json whose startedAt is past any date, naming the key (exit 2, not internal error 1)', async () => {
  const dir = folder();
  await new StateStore(dir).writeState(snapshot({ pid: await deadPid(), startedAt: 9e15 }));
  const status = await runCli(['status', '--state-dir', dir], { cwd: dir });
  expect(status.stderr).not.toMatch(/internal error/);
  expect(status.stderr).toMatch(/startedAt: must be a time in epoch ms/);
  expect(status.code).toBe(2);
});

it("status skips a journal line whose time is past any date, and still says the rollout's process died (exit 5)", async () => {
  const dir = folder();
  const store = new StateStore(dir);
  await store.writeState(snapshot({ pid: await deadPid() }));
  appendFileSync(store.eventsPath, `${JSON.stringify({ at: 1e308, type: 'warning', stage: 0, greenWeight: 0.1, message: 'edited' })}\n`);
  const status = await runCli(['status', '--state-dir', dir], { cwd: dir });
  expect(status.stderr).not.toMatch(/internal error/);
  expect(status.stderr).toMatch(/died without finishing/);
  expect(status.code).toBe(5);
});

it("a proxy's route file whose time is past any date is not applied: blue is served, not its promotion", () => {
  const dir = folder();
  const owner = 'demo (gpt-4o -> gpt-4.1)';
  writeFileSync(path.join(dir, ROUTE_FILE), JSON.stringify({ greenWeight: 0, mirror: 0, updatedAt: 1e308, promotedArm: 'green', revision: 3, rollout: owner }));
  const notices: string[] = [];
  const saved = new RouteFile(dir, (message) => notices.push(message)).read(owner);
  expect(saved?.route).toMatchObject({ greenWeight: 0, mirror: 0 });
  expect(saved?.route.promotedArm).toBeUndefined();
  expect(notices.join('\n')).toMatch(/is not a route; serving blue/);
});
