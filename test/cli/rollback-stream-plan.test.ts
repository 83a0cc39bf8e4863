// A dead rollout whose plan came from a stream (`envsubst < plan.tmpl | bluegreen rollout /dev/stdin`): `bluegreen
// rollback` does not read /dev/stdin again. It read its own stdin, and with that an idle pipe it waited (signals
// unanswered, in a synchronous read) until the pipe's writer closed.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { expect, it } from 'vitest';
import { StateStore } from '../../src/state/index.js';
import { tempDir } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';
import { deadPid, snapshot } from '../state/helpers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/bluegreen.js');

it("refuses at once, saying why, with its stdin an idle pipe: the dead run's /dev/stdin plan is not read again", async () => {
  const dir = tempDir();
  const store = new StateStore(path.join(dir, '.bluegreen'));
  await store.writeState(snapshot({ pid: await deadPid(), plan: { ...snapshot().plan, file: '/dev/stdin' } }));
  // Through a shell: its `|` gives bluegreen a pipe(2) as stdin (node's own stdio would be a socket pair), whose
  // writer, cat, stays open as long as the test's end of it. The shell says bluegreen's exit once it has one.
  const shell = killAfterTest(
    spawn('sh', ['-c', 'cat | { "$0" "$1" rollback; echo "exit $?" >&2; }', process.execPath, BIN], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  let stderr = '';
  shell.stderr.setEncoding('utf8');
  const exited = new Promise<void>((resolve) =>
    shell.stderr.on('data', (text: string) => {
      stderr += text;
      if (/exit \d+\n$/.test(stderr)) resolve();
    }),
  );
  await exited;
  expect(stderr).toBe(
    'bluegreen: cannot load /dev/stdin, the plan of the rollout that died (it was read from a stream, which cannot be read again); pass --plan FILE, or put traffic back on blue by hand\nexit 2\n',
  );
  // Only now does the pipe's writer end: bluegreen never waited for it.
  shell.stdin.end();
  await once(shell, 'exit');
  expect(store.readState()?.phase).toBe('progressing');
});
