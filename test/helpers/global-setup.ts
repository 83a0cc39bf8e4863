// Every temporary folder a test makes (mkdtemp in os.tmpdir(), plans, state folders, spawned CLIs) lands in one
// folder per run, removed when the run ends, so a run leaves nothing behind in /tmp.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Newest modification time of any file below dir (0 if it does not exist). */
function newest(dir: string): number {
  let latest = 0;
  try {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) latest = Math.max(latest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  } catch {
    return 0;
  }
  return latest;
}

/** Tests that run the real binary (bin/ loads dist/) need a whole build as new as src/: make one if it is not. */
function buildIfStale(): void {
  const whole = existsSync(path.join(ROOT, 'dist', 'BUILD-COMPLETE'));
  if (whole && newest(path.join(ROOT, 'dist')) >= newest(path.join(ROOT, 'src'))) return;
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
