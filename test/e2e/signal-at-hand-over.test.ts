// A stop signal that comes while the main thread is busy, just before one set of stop handlers hands over to the next
// (the CLI's loading ones to the rollout's start-up ones, those to the running rollout's): found by hostile32, a
// SIGTERM half a second into `bluegreen rollout` was lost about one time in three, and the rollout ran on and
// promoted (exit 0). Node had caught the signal but not yet dispatched it; the hand-over removed the last listener
// first, Node closed the signal's handle and the caught signal with it. A module hook holds the main thread at the
// hand-over (a busy loop, as a slow load is) until the signal has been caught, so it lands there every time.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { BIN, exitOf, hookLog, loggingPlan, stderrOf } from './helpers.js';
import { chunkHolding } from '../helpers/bundle.js';
import { tempDir } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

/**
 * Runs `bluegreen rollout` with `before` in dist/`file` (a chunk of the CLI's bundle, which bin/ runs) replaced by a
 * busy loop and then `before` itself: the loop
 * marks `busy`, waits for `sent`, then until no thread of the process has SIGTERM pending (libuv's handler has
 * caught it; it is dispatched on the loop's next turn, after the hand-over).
 */
function rolloutHeldAt(file: string, before: string): { child: ReturnType<typeof spawn>; dir: string; busy: () => boolean; sent: () => void } {
  const dir = tempDir();
  const mark = (name: string) => path.join(dir, name);
  const hold = `{
  const fs = process.getBuiltinModule('node:fs');
  const termPending = (status) => [...fs.readFileSync(status, 'utf8').matchAll(/^(?:SigPnd|ShdPnd):\\s*([0-9a-f]+)$/gm)].some((m) => (BigInt('0x' + m[1]) & 0x4000n) !== 0n);
  fs.writeFileSync(${JSON.stringify(mark('busy'))}, '');
  while (!fs.existsSync(${JSON.stringify(mark('sent'))}));
  while (termPending('/proc/self/status') || fs.readdirSync('/proc/self/task').some((t) => termPending('/proc/self/task/' + t + '/status')));
}
`;
  writeFileSync(
    mark('hooks.mjs'),
    `export async function load(url, context, next) {
  const loaded = await next(url, context);
  if (!url.endsWith(${JSON.stringify(`/dist/${file}`)})) return loaded;
  const source = String(loaded.source);
  if (!source.includes(${JSON.stringify(before)})) throw new Error('the hand-over to hold is not in ${file}');
  return { ...loaded, source: source.replace(${JSON.stringify(before)}, ${JSON.stringify(hold)} + ${JSON.stringify(before)}) };
}
`,
  );
  writeFileSync(mark('register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
  const plan = loggingPlan(dir, { stages: [{ duration: '1s', weight: 0.5 }] });
  const child = killAfterTest(
    spawn(process.execPath, ['--import', mark('register.mjs'), BIN, 'rollout', plan, '--plain'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }),
  );
  return { child, dir, busy: () => existsSync(mark('busy')), sent: () => writeFileSync(mark('sent'), '') };
}

it('a SIGTERM caught while the CLI finishes loading stops the rollout before it starts (exit 143), not lost', async () => {
  // The end of the evaluation of the bundle's main.js (its exports come last): bin/bluegreen.js then hands its loading
  // handlers over.
  const { child, dir, busy, sent } = rolloutHeldAt('bundle/main.js', 'export { buildProgram, commandModules, main };');
  const stderr = stderrOf(child);
  await until(busy, 'the CLI to be loading');
  child.kill('SIGTERM');
  sent();
  expect(await exitOf(child)).toEqual({ code: 143, signal: null });
  expect(stderr.text()).toMatch(/interrupted by SIGTERM (while starting|before the rollout started): nothing changed/);
  expect(readdirSync(dir)).not.toContain('.bluegreen');
  expect(existsSync(path.join(dir, 'hook.log'))).toBe(false);
});

it("a SIGTERM caught as the start-up hands over to the running rollout's handlers rolls back (exit 143), not lost", async () => {
  const { child, dir, busy, sent } = rolloutHeldAt(chunkHolding('dist/cli/run-rollout.js'), 'startup.started();');
  const stderr = stderrOf(child);
  await until(busy, 'the rollout to be starting');
  child.kill('SIGTERM');
  sent();
  expect(await exitOf(child)).toEqual({ code: 143, signal: null });
  expect(stderr.text()).toMatch(/interrupted by SIGTERM/);
  expect(hookLog(dir)).not.toContain('promote 1');
  expect(hookLog(dir).at(-1) ?? 'rollback 0').toBe('rollback 0');
});
