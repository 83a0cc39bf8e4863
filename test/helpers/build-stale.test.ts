// `npm test` is vitest alone: its global setup builds dist/ only when it is older than what it is built from, so a
// change to the build's configuration (not only to src/) must make it build again.
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { buildIsStale } from './global-setup.js';
import { tempDir } from './plans.js';

/** A project folder with src/, the build's configuration and a whole dist/, every file as old as `at` (seconds). */
function project(at: number): string {
  const root = tempDir();
  mkdirSync(path.join(root, 'src', 'core'), { recursive: true });
  mkdirSync(path.join(root, 'dist'));
  mkdirSync(path.join(root, 'tools'));
  for (const file of [
    'src/core/a.ts',
    'tsconfig.json',
    'tsconfig.build.json',
    'tools/build.js',
    'tools/bundle-cli.js',
    'package-lock.json',
    'dist/a.js',
    'dist/BUILD-COMPLETE',
  ]) {
    writeFileSync(path.join(root, file), '');
    utimesSync(path.join(root, file), at, at);
  }
  return root;
}

it('builds again when dist/ is incomplete, or older than src/, the build configuration and code, or the packages locked', () => {
  const at = 1_700_000_000;
  expect(buildIsStale(project(at))).toBe(false);
  // The bundle of the CLI (tools/bundle-cli.js) holds the packages package-lock.json names.
  for (const file of ['src/core/a.ts', 'tsconfig.json', 'tsconfig.build.json', 'tools/build.js', 'tools/bundle-cli.js', 'package-lock.json']) {
    const root = project(at);
    utimesSync(path.join(root, file), at + 10, at + 10);
    expect(buildIsStale(root), file).toBe(true);
  }
  // A build stopped part-way (tools/build.js removes the marker first): built again, however new its files.
  const partial = project(at);
  rmSync(path.join(partial, 'dist', 'BUILD-COMPLETE'));
  expect(buildIsStale(partial)).toBe(true);
});
