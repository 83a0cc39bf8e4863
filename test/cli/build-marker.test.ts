// A build stopped part-way (Ctrl-C during `npm ci`'s prepare, or a first `npx bluegreen` from git) left dist/ a mix of
// new, old and missing files that bin/ then ran, or died importing with a stack trace. tools/build.js now builds
// beside dist/ and swaps the whole build in, with dist/BUILD-COMPLETE in it; bin/ refuses a dist/ without the marker
// (an older in-place build stopped part-way), saying how to build it again.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitOf, stderrOf } from '../e2e/helpers.js';
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

/** The modules bin/ imports and the plan loader's worker, bundled by the build (tools/bundle-cli.js): each project to build has them. */
const CLI_ENTRIES = ['cli/early-stop.ts', 'core/flush-output.ts', 'cli/main.ts', 'cli/context.ts', 'plan/plan-worker.ts'];

/**
 * A folder with this checkout's tools/ (the build and the CLI's bundling), its packages, a tsconfig.build.json, the
 * CLI's entries (`export {}`, or as `sources` says) and `sources` under src/.
 */
function projectToBuild(sources: Record<string, string>): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'tools'));
  for (const file of ['build.js', 'bundle-cli.js']) copyFileSync(path.join(ROOT, 'tools', file), path.join(dir, 'tools', file));
  symlinkSync(realpathSync(path.join(ROOT, 'node_modules')), path.join(dir, 'node_modules'), 'dir');
  writeFileSync(
    path.join(dir, 'tsconfig.build.json'),
    JSON.stringify({ compilerOptions: { rootDir: 'src', outDir: 'dist', module: 'nodenext', types: [], skipLibCheck: true }, include: ['src'] }),
  );
  for (const [name, text] of Object.entries({ ...Object.fromEntries(CLI_ENTRIES.map((entry) => [entry, 'export {};\n'])), ...sources })) {
    mkdirSync(path.dirname(path.join(dir, 'src', name)), { recursive: true });
    writeFileSync(path.join(dir, 'src', name), text);
  }
  return dir;
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
      `bluegreen: its build in ${realpathSync(dir)}/dist is incomplete (stopped part-way, failed, or from an older version): build it again with: npm run build --prefix ${realpathSync(dir)}/\n`,
    );
  });

  it('is refused the same when it is whole but from before the CLI was bundled (the marker, no dist/bundle/)', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'bin'));
    copyFileSync(path.join(ROOT, 'bin/bluegreen.js'), path.join(dir, 'bin/bluegreen.js'));
    mkdirSync(path.join(dir, 'dist/cli'), { recursive: true });
    writeFileSync(path.join(dir, 'dist/BUILD-COMPLETE'), 'tsc finished this build of dist/ whole\n');
    copyFileSync(path.join(ROOT, 'dist/core/exit.js'), path.join(dir, 'dist/cli/main.js'));
    const run = spawnSync(process.execPath, [path.join(dir, 'bin/bluegreen.js'), 'status'], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `bluegreen: its build in ${realpathSync(dir)}/dist is incomplete (stopped part-way, failed, or from an older version): build it again with: npm run build --prefix ${realpathSync(dir)}/\n`,
    );
  });

  it.skipIf(process.platform !== 'linux')('keeps the old build whole while tsc runs, then swaps the new one in whole', async () => {
    const dir = projectToBuild({ 'a.ts': 'export const a: number = 1;\n' });
    // The build before: whole, with a module whose source has since been removed.
    mkdirSync(path.join(dir, 'dist'));
    writeFileSync(path.join(dir, 'dist/BUILD-COMPLETE'), 'old\n');
    writeFileSync(path.join(dir, 'dist/gone.js'), 'export {};\n');
    // What a build stopped part-way left.
    mkdirSync(path.join(dir, '.dist-building'));
    writeFileSync(path.join(dir, '.dist-building/half.js'), '');
    const build = killAfterTest(spawn(process.execPath, [path.join(dir, 'tools/build.js')], { cwd: dir, stdio: 'ignore' }));
    await until(() => children(build.pid as number).length > 0, 'tsc to be running');
    // A CLI started now still finds the old build, whole.
    expect(readFileSync(path.join(dir, 'dist/BUILD-COMPLETE'), 'utf8')).toBe('old\n');
    expect(await exitOf(build)).toEqual({ code: 0, signal: null });
    expect(existsSync(path.join(dir, 'dist/a.js'))).toBe(true);
    // The CLI's bundle, built from tsc's output, came in with it.
    expect(existsSync(path.join(dir, 'dist/bundle/main.js'))).toBe(true);
    expect(readFileSync(path.join(dir, 'dist/BUILD-COMPLETE'), 'utf8')).toMatch(/^tsc and the CLI bundle finished/);
    expect(existsSync(path.join(dir, 'dist/gone.js'))).toBe(false);
    expect(existsSync(path.join(dir, '.dist-building'))).toBe(false);
    expect(existsSync(path.join(dir, '.dist-replaced'))).toBe(false);
  });

  it('a bundle that fails (an import it cannot resolve) leaves the old build whole: the build fails, nothing is swapped in', async () => {
    const dir = projectToBuild({ 'cli/main.ts': "// @ts-nocheck: a package that is not installed\nexport { x } from 'no-such-package-bluegreen';\n" });
    mkdirSync(path.join(dir, 'dist'));
    writeFileSync(path.join(dir, 'dist/BUILD-COMPLETE'), 'old\n');
    const build = killAfterTest(spawn(process.execPath, [path.join(dir, 'tools/build.js')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }));
    const stderr = stderrOf(build);
    expect((await exitOf(build)).code).toBe(1);
    expect(stderr.text()).toContain('no-such-package-bluegreen');
    expect(readdirSync(path.join(dir, 'dist'))).toEqual(['BUILD-COMPLETE']);
    expect(readFileSync(path.join(dir, 'dist/BUILD-COMPLETE'), 'utf8')).toBe('old\n');
    expect(existsSync(path.join(dir, '.dist-building.lock'))).toBe(false);
  });

  // review32 (MEDIUM): two builds at once shared .dist-building/, each removing or renaming it under the other's tsc,
  // and swapped in a dist/ with the marker and a fraction of the files. One build at a time now (a lock file).
  it.skipIf(process.platform !== 'linux')('two builds at once end with a whole dist/, one after the other', async () => {
    const MODULES = 200;
    const dir = projectToBuild(Object.fromEntries(Array.from({ length: MODULES }, (_, i) => [`m${i}.ts`, `export const m${i}: number = ${i};\n`])));
    const start = () => killAfterTest(spawn(process.execPath, [path.join(dir, 'tools/build.js')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] }));
    const first = start();
    await until(() => children(first.pid as number).length > 0, "the first build's tsc to be running");
    const second = start();
    let said = '';
    second.stderr?.on('data', (chunk: Buffer) => (said += chunk.toString()));
    expect(await exitOf(first)).toEqual({ code: 0, signal: null });
    expect(await exitOf(second)).toEqual({ code: 0, signal: null });
    expect(said).toContain('waiting for another build of this checkout to finish');
    const built = readdirSync(path.join(dir, 'dist')).sort();
    expect(built.filter((name) => name.endsWith('.js'))).toHaveLength(MODULES);
    expect(built).toContain('BUILD-COMPLETE');
    expect(readdirSync(dir).filter((name) => name.startsWith('.dist'))).toEqual([]);
  });
});
