// Where a slow run's time went (bench/proxy.js, session 24): in one run's window, each benchmarked process's GC pauses
// (how many, their sum, those over LONG_GC_MS) and its event loop's longest hold, from bench/lib/stall-times.js loaded
// into it, and the same for the bench client's own loop (recorded in-process: a client held makes its sends late).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signalProbe } from './probe-signal.js';
import { HOLD_MS, recordGcPauses, recordLoopHolds } from './stall-record.js';
import { round, sleep } from './util.js';

/** The node flag that loads the recorder into a benchmarked process. */
export const STALL_TIMES_IMPORT = `--import=${path.join(path.dirname(fileURLToPath(import.meta.url)), 'stall-times.js')}`;
/** A GC pause this long holds 250 requests at 5,000 req/s: named one by one. */
export const LONG_GC_MS = 50;
/** How long a driver waits for a process's record: an idle process writes it at once, a stopped one never. */
const TAKE_WAIT_MS = 5000;

/** @typedef {{ gc: import('./stall-record.js').GcPause[]; holds: import('./stall-record.js').LoopHold[] }} StallRecord */

/** What process `pid` recorded since the last take (null: it did not write it within TAKE_WAIT_MS). */
export async function takeStalls(/** @type {number} */ pid) {
  const file = `/tmp/stall-times-${pid}.json`;
  rmSync(file, { force: true });
  signalProbe(pid, 'stall-times');
  for (const until = Date.now() + TAKE_WAIT_MS; !existsSync(file); await sleep(10)) if (Date.now() > until) return null;
  const record = /** @type {StallRecord} */ (JSON.parse(readFileSync(file, 'utf8')));
  rmSync(file, { force: true });
  return record;
}

/** The same record of this process's own loop (the bench client's). */
export function ownStalls() {
  const gc = recordGcPauses();
  const holds = recordLoopHolds();
  return { take: () => ({ gc: gc.take(), holds: holds.take() }) };
}

/**
 * One process's stalls in a run's window (epoch ms, `from` to `to`): its GC pauses that began in it (count, sum, the
 * lengths of those over LONG_GC_MS) and the longest loop hold over HOLD_MS that overlapped it, with its start in s
 * after `from` (0 and null: none over HOLD_MS). null: no record.
 * @param {StallRecord | null} record
 * @param {number} from
 * @param {number} to
 */
export function stallFigures(record, from, to) {
  if (!record) return null;
  const gc = record.gc.filter(([at]) => at >= from && at < to);
  const longest = record.holds.filter(([at, ms]) => at < to && at + ms > from).reduce((a, b) => (b[1] > a[1] ? b : a), [from, 0]);
  return {
    gcPauses: gc.length,
    gcMs: round(
      gc.reduce((sum, [, ms]) => sum + ms, 0),
      1,
    ),
    longGcMs: gc.filter(([, ms]) => ms > LONG_GC_MS).map(([, ms, kind]) => `${round(ms, 1)} ${kind}`),
    longestHoldMs: round(longest[1], 1),
    longestHoldAtS: longest[1] > 0 ? round((longest[0] - from) / 1000, 2) : null,
  };
}

/** @typedef {NonNullable<ReturnType<typeof stallFigures>>} StallFigures */

/** One process's figures as the log shows them. @param {StallFigures | null} f */
export function stallText(f) {
  if (!f) return 'no record';
  const long = f.longGcMs.length ? `, over ${LONG_GC_MS} ms: ${f.longGcMs.join(', ')}` : `, none over ${LONG_GC_MS} ms`;
  const hold = f.longestHoldAtS === null ? `no loop hold over ${HOLD_MS} ms` : `loop held ${f.longestHoldMs} ms at ${f.longestHoldAtS} s`;
  return `GC ${f.gcPauses} pauses, ${f.gcMs} ms${long}; ${hold}`;
}
