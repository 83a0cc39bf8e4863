// Whether a process is a bluegreen: its command line runs bluegreen's bin (bin/bluegreen.js, or a link to it such as
// npm's /usr/local/bin/bluegreen) or a file of this install's dist/. What a recovery guard's holder is checked by
// (state/recovery-guard.ts): any local process can bind the guard's name and answer with any pid.
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Enough for node's options and the script: a longer command line is looked at no further. */
const MAX_ARGS = 16;

/** Whether `pid` runs bluegreen, as its /proc/PID/cmdline says (Linux); false with no such process or no /proc. */
export function isBluegreenProcess(pid: number): boolean {
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1, MAX_ARGS);
  } catch {
    return false;
  }
  const dist = distFolder();
  return args.some((arg) => {
    // Only what could be the script: a link named bluegreen, or a .js file (node's options are skipped).
    if (arg.startsWith('-') || !/(^|\/)bluegreen$|\.m?js$/.test(arg)) return false;
    let real: string;
    try {
      // A relative script is the process's own cwd's: /proc/PID/cwd resolves it (where its owner lets us read it).
      real = realpathSync(path.isAbsolute(arg) ? arg : `/proc/${pid}/cwd/${arg}`);
    } catch {
      return false;
    }
    return real.endsWith(`${path.sep}bin${path.sep}bluegreen.js`) || real.startsWith(dist);
  });
}

/** This install's dist/: this file is in a chunk of dist/bundle/ (src/core/… under the tests): two folders down either way. */
function distFolder(): string {
  return fileURLToPath(new URL('../../dist/', import.meta.url));
}
