// A build stopped part-way (Ctrl-C during `npm ci`'s prepare, or a first `npx bluegreen` from git) left dist/ a mix of
// new, old and missing files that bin/ then ran, or died importing with a stack trace. tools/build.js removes
// dist/BUILD-COMPLETE first and writes it last; bin/ refuses a dist/ without it, saying how to build it again.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitOf } from '../e2e/helpers.js';
import { tempDir } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The pids of a process's children (Linux). */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('a build stopped part-way', () => {
  it('is refused by bin/ with how to build again: no stack trace, exit 1', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'bin'));
    copyFileSync(path.join(ROOT, 'bin/bluegreen.js'), path.join(dir, 'bin/bluegreen.js'));
    // What tsc had written when it was stopped: one file of the CLI, not the rest.
    mkdirSync(path.join(dir, 'dist/core'), { recursive: true });
    copyFileSync(path.join(ROOT, 'dist/core/exit.js'), path.join(dir, 'dist/core/exit.js'));
    const run = spawnSync(process.execPath, [path.join(dir, 'bin/bluegreen.js'), 'status'], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `bluegreen: its build in ${realpathSync(dir)}/dist is incomplete (stopped part-way, or failed): build it again with: npm run build --prefix ${realpathSync(dir)}/\n`,
    );
  });

  it.skipIf(process.platform !== 'linux')('has no marker while tsc runs, and one once it has finished', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'tools'));
    copyFileSync(path.join(ROOT, 'tools/build.js'), path.join(dir, 'tools/build.js'));
    symlinkSync(realpathSync(path.join(ROOT, 'node_modules')), path.join(dir, 'node_modules'), 'dir');
    writeFileSync(
      path.join(dir, 'tsconfig.build.json'),
      JSON.stringify({ compilerOptions: { rootDir: 'src', outDir: 'dist', module: 'nodenext', types: [], skipLibCheck: true }, include: ['src'] }),
    );
    mkdirSync(path.join(dir, 'src'));
    writeFileSync(path.join(dir, 'src/a.ts'), 'export const a: number = 1;\n');
    // The marker of the build before.
    mkdirSync(path.join(dir, 'dist'));
    writeFileSync(path.join(dir, 'dist/BUILD-COMPLETE'), 'old\n');
    const build = killAfterTest(spawn(process.execPath, [path.join(dir, 'tools/build.js')], { cwd: dir, stdio: 'ignore' }));
    await until(() => children(build.pid as number).length > 0, 'tsc to be running');
    expect(existsSync(path.join(dir, 'dist/BUILD-COMPLETE'))).toBe(false);
    expect(await exitOf(build)).toEqual({ code: 0, signal: null });
    expect(existsSync(path.join(dir, 'dist/a.js'))).toBe(true);
    expect(existsSync(path.join(dir, 'dist/BUILD-COMPLETE'))).toBe(true);
  });
});
