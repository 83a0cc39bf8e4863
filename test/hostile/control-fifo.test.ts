// A named pipe (or a link to /dev/zero) dropped into a running rollout's control/ folder: found by hostile29, the
// rollout read it with readFileSync, whose open() waits for a writer for good, so the rollout froze at its stage's
// split, deaf to SIGTERM (its handler never ran) until kill -9. Read in a child process (the built module, as the
// rollout runs it), so a hang is cut by the timeout instead of blocking the test worker.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { writeControl } from '../../src/state/index.js';
import { tempDir } from '../state/helpers.js';

const CONTROL = pathToFileURL(path.resolve(import.meta.dirname, '../../dist/state/control.js')).href;
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

it('a named pipe or a device among the control requests is skipped with a warning, and the real request still taken', () => {
  const folder = tempDir();
  cleanups.push(() => folder.cleanup());
  const control = path.join(folder.dir, 'control');
  mkdirSync(control, { recursive: true });
  execFileSync('mkfifo', [path.join(control, '000000000000001-pipe.json')]);
  symlinkSync('/dev/zero', path.join(control, '000000000000002-zero.json'));
  writeControl(folder.dir, { action: 'abort', user: 'alice', host: 'h', pid: 1, at: 5 });
  const script = `
    const { takeControlRequests } = await import(${JSON.stringify(CONTROL)});
    const warnings = [];
    const taken = takeControlRequests(${JSON.stringify(folder.dir)}, (w) => warnings.push(w));
    const again = takeControlRequests(${JSON.stringify(folder.dir)}, (w) => warnings.push(w));
    console.log(JSON.stringify({ taken: taken.map((r) => r.action), again: again.length, warnings }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  expect(run.signal, 'reading the control folder hung').toBeNull();
  const result = JSON.parse(run.stdout) as { taken: string[]; again: number; warnings: string[] };
  expect(result.taken).toEqual(['abort']);
  expect(result.again).toBe(0);
  expect(result.warnings).toHaveLength(2);
  expect(result.warnings[0]).toContain('000000000000001-pipe.json: ');
  expect(result.warnings[0]).toContain('is a named pipe, not a regular file');
  expect(result.warnings[1]).toContain('is a device, not a regular file');
});
