// A stop signal before any command's handlers listen (bluegreen's modules loading, a second or more on a busy
// machine): it exited 130 (143, 129) in silence. Now it says so, with the same code. The module being loaded is
// held by a module hook until the signal has come, so the signal lands in that moment every time.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, exitOf, stderrOf } from './helpers.js';
import { chunkHolding } from '../helpers/bundle.js';
import { tempDir } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

/**
 * Starts bluegreen with the loading of `held` (a path under dist/: a chunk of the CLI's bundle, which bin/ runs)
 * stopped until the process ends; says when it is.
 */
function startHeldAt(held: string, args: string[]): { child: ReturnType<typeof spawn>; dir: string; heldNow: () => boolean } {
  const dir = tempDir();
  const mark = path.join(dir, 'held');
  writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `import { writeFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.endsWith(${JSON.stringify(`/dist/${held}`)})) {
    writeFileSync(${JSON.stringify(mark)}, 'held');
    await new Promise((resolve) => setTimeout(resolve, 600_000));
  }
  return next(url, context);
}
`,
  );
  writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
  const child = killAfterTest(
    spawn(process.execPath, ['--import', path.join(dir, 'register.mjs'), BIN, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }),
  );
  return { child, dir, heldNow: () => existsSync(mark) };
}

describe('a stop signal before the handlers listen', () => {
  it('while the rollout module loads: says nothing changed, exits 130, leaves no state folder', async () => {
    const { child, dir, heldNow } = startHeldAt(chunkHolding('dist/cli/commands/rollout.js'), ['rollout', 'plan.yaml', '--plain']);
    const stderr = stderrOf(child);
    await until(heldNow, 'the rollout module to be loading');
    child.kill('SIGINT');
    expect(await exitOf(child)).toEqual({ code: 130, signal: null });
    expect(stderr.text()).toBe('bluegreen: interrupted by SIGINT before the rollout started: nothing changed\n');
    expect(readdirSync(dir)).not.toContain('.bluegreen');
  });

  it('while the CLI itself loads, any command: says so, exits 143 for SIGTERM', async () => {
    const { child, heldNow } = startHeldAt('bundle/main.js', ['status']);
    const stderr = stderrOf(child);
    await until(heldNow, 'the CLI to be loading');
    child.kill('SIGTERM');
    expect(await exitOf(child)).toEqual({ code: 143, signal: null });
    expect(stderr.text()).toBe('bluegreen: interrupted by SIGTERM while starting: nothing changed\n');
  });
});
