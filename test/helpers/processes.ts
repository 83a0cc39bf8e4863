// Whether a process a test started (or one of its children) still runs.
import { existsSync, readFileSync } from 'node:fs';

/** Alive, and not a zombie waiting to be reaped (a zombie has finished all the same). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
}
