// What held a process's event loop, recorded in the process itself on the wall clock (epoch ms, from
// performance.timeOrigin) every process of a benchmark shares, so a driver can cut out one run's window and line the
// processes up: each GC pause (start, length, kind: a PerformanceObserver of `gc` entries) and each hold of the loop
// over HOLD_MS (start, length: a timer every PERIOD_MS that measures how late it ran). perf_hooks'
// monitorEventLoopDelay would give the delays' histogram, but not when they were. Each `take()` gives what was
// recorded since the last and starts afresh. Loaded into benchmarked processes by gc-times.js and stall-times.js
// (--import), and used by bench/proxy.js for its own loop: the client's pauses make its sends late.
import { PerformanceObserver, constants } from 'node:perf_hooks';

const KINDS = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'scavenge'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'mark-compact'],
]);

/** The timer's period: 100 wake-ups a second, nothing beside a benchmarked process's thousands of requests. */
const PERIOD_MS = 10;
/** A hold past a few periods' jitter. A request arriving in it waits up to its length. */
export const HOLD_MS = 20;

/** @typedef {[number, number, string]} GcPause start (epoch ms), length (ms), 'scavenge' | 'mark-compact' | 'other' */
/** @typedef {[number, number]} LoopHold start (epoch ms), length (ms) */

/** Records the process's GC pauses. */
export function recordGcPauses() {
  /** @type {GcPause[]} */
  let pauses = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = /** @type {{ detail?: { kind?: number } }} */ (/** @type {unknown} */ (entry)).detail?.kind;
      pauses.push([performance.timeOrigin + entry.startTime, entry.duration, KINDS.get(kind ?? -1) ?? 'other']);
    }
  }).observe({ entryTypes: ['gc'] });
  return {
    take() {
      const taken = pauses;
      pauses = [];
      return taken;
    },
  };
}

/** Records the holds of the process's event loop over HOLD_MS (its timer does not keep the process alive). */
export function recordLoopHolds() {
  /** @type {LoopHold[]} */
  let holds = [];
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const lateBy = now - last - PERIOD_MS;
    if (lateBy > HOLD_MS) holds.push([performance.timeOrigin + last + PERIOD_MS, lateBy]);
    last = now;
  }, PERIOD_MS).unref();
  return {
    take() {
      const taken = holds;
      holds = [];
      return taken;
    },
  };
}
