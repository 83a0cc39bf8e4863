// The driver's side of bench/lib/gc-count.js: runs `run` with the process `pid` counting its GCs (started and stopped
// by SIGUSR2, bench/lib/probe-signal.js) and gives back run's result with what the process wrote: the requests it took, the bytes allocated, each
// GC, and its memory at the end (RSS, heap, each heap space).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './util.js';
import { signalProbe } from './probe-signal.js';

/** The node flag that loads the counter into a benchmarked process. */
export const GC_COUNT_IMPORT = `--import=${path.join(path.dirname(fileURLToPath(import.meta.url)), 'gc-count.js')}`;

/**
 * @template T
 * @param {number} pid
 * @param {() => Promise<T>} run
 * @returns {Promise<{ result: T, counts: { requests: number, allocated: number, gcs: any[], memory: any } }>}
 */
export async function gcCounted(pid, run) {
  const file = `/tmp/gc-count-${pid}.json`;
  rmSync(file, { force: true });
  signalProbe(pid, 'gc-count');
  // The signal is handled on the process's next turn: let it start before the load does.
  await sleep(50);
  const result = await run();
  signalProbe(pid, 'gc-count');
  while (!existsSync(file)) await sleep(20);
  return { result, counts: JSON.parse(readFileSync(file, 'utf8')) };
}
