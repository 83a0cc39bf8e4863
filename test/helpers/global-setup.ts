// Every temporary folder a test makes (mkdtemp in os.tmpdir(), plans, state folders, spawned CLIs) lands in one
// folder per run, removed when the run ends, so a run leaves nothing behind in /tmp.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Newest modification time of any file at or below each path (0 for one that does not exist). */
function newest(...paths: string[]): number {
  let latest = 0;
  for (const at of paths) {
    try {
      const stat = statSync(at);
      if (!stat.isDirectory()) {
        latest = Math.max(latest, stat.mtimeMs);
        continue;
      }
      for (const entry of readdirSync(at, { recursive: true, withFileTypes: true })) {
        if (entry.isFile()) latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
      }
    } catch {
      // Absent: nothing to compare.
    }
  }
  return latest;
}

/**
 * Tests that run the real binary (bin/ loads dist/'s bundle of the CLI) need a whole build as new as what it is built
 * from (src/, the build's own configuration and code in tools/, and the packages the bundle holds: package-lock.json):
 * make one if it is not. This is the suite's only build (`npm test` is vitest alone): in CI `npm ci` has just built
 * dist/ (prepare), and a second tsc run there cost a whole build's time for nothing.
 */
export function buildIsStale(root: string): boolean {
  const whole = existsSync(path.join(root, 'dist', 'BUILD-COMPLETE'));
  const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'tools', 'package-lock.json'].map((name) => path.join(root, name));
  return !whole || newest(path.join(root, 'dist')) < newest(...inputs);
}

function buildIfStale(): void {
  if (!buildIsStale(ROOT)) return;
  execFileSync(process.execPath, [path.join(ROOT, 'tools/build.js')], { stdio: 'inherit' });
}

export default function setup(): () => void {
  buildIfStale();
  const previous = process.env.TMPDIR;
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'bluegreen-tests-'));
  // Workers and the processes tests spawn inherit it, and os.tmpdir() reads it on every call.
  process.env.TMPDIR = runDir;
  return () => {
    rmSync(runDir, { recursive: true, force: true });
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  };
}
