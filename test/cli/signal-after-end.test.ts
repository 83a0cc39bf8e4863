// A stop signal after the rollout ended, while its reports are written: the rollout's own handlers are gone by then
// (removed as it closes), and a SIGTERM killed the promoted rollout with 143, which says "rolled back to blue" while
// the traffic was on green and the state said promoted. The exit code stays the rollout's, and the signal is said.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { simulatedPlan, tempDir, writePlan } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/bluegreen.js');

it('SIGTERM while the reports of a promotion are written: exit 0, said on stderr, the state promoted', async () => {
  const dir = tempDir();
  writePlan(simulatedPlan('late-signal', '300ms', 0.5), dir);
  // The JUnit report is a named pipe nothing reads yet: the rollout, its JSON report written, waits there for a
  // reader (up to 5 s), its reports under way and its own signal handlers gone.
  execFileSync('mkfifo', [path.join(dir, 'r.xml')]);
  const rollout = killAfterTest(
    spawn(process.execPath, [BIN, 'rollout', 'plan.yaml', '--ci', '--report-json', 'r.json', '--junit', 'r.xml'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stderr = '';
  rollout.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  rollout.stdout.resume();
  const exited = once(rollout, 'exit');
  await until(() => existsSync(path.join(dir, 'r.json')), 'the JSON report');
  rollout.kill('SIGTERM');
  const reader = killAfterTest(spawn('cat', ['r.xml'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }));
  const read = once(reader, 'exit');
  let junit = '';
  reader.stdout.setEncoding('utf8').on('data', (text: string) => (junit += text));
  const [code, signal] = (await exited) as [number | null, string | null];
  expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
  expect(stderr).toContain(
    "bluegreen: SIGTERM after the rollout ended (promoted, exit 0): nothing is left to stop; its reports are written and the exit code stays the rollout's",
  );
  await read;
  expect(junit).toContain('<testsuites');
  expect(JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8'))).toMatchObject({ phase: 'promoted', exitCode: 0 });
});
