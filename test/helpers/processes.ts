// The processes a test starts: whether one (or one of its children) still runs, and its end with the test.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { closeAfterTest } from './close-after-test.js';

/** Alive, and not a zombie waiting to be reaped (a zombie has finished all the same). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) still answers kill(0): dead all the same. Without /proc (not Linux) kill(0) is
  // all there is. Reaped between the two looks (its stat gone, or going as it is read): dead too, never alive.
  if (!existsSync('/proc/self/stat')) return true;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Kills `child` (SIGKILL) when the running test ends, passed or failed, if it still runs then, and waits for its exit;
 * returns it. Call it right after the spawn, before any await that can fail: every file shares its worker, and a
 * child left behind runs on through the files after it. A launcher (npm, a shell) is killed alone: the bluegreen
 * it started sees its launcher gone and stops itself (src/cli/launcher.ts).
 */
export function killAfterTest<T extends ChildProcess>(child: T): T {
  closeAfterTest({
    close: async () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  });
  return child;
}
