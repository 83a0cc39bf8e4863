// When a benchmarked process's GC pauses were, on the wall clock the bench client shares (epoch ms, from
// performance.timeOrigin): each pause's start, length and kind, from a PerformanceObserver of `gc` entries. Loaded with
// --import; each SIGUSR2 for it (bench/lib/probe-signal.js) writes the pauses since the last one to
// /tmp/gc-times-PID.json and starts afresh. bench/tools/first-byte-tail.js drives it: which of a path's slowest
// requests overlapped one of its process's pauses.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { renameSync, writeFileSync } from 'node:fs';
import { onProbeSignal } from './probe-signal.js';

/** [start (epoch ms), length (ms), 'scavenge' | 'mark-compact' | 'other'] of each pause since the last write. */
/** @type {[number, number, string][]} */
let pauses = [];
const kinds = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'scavenge'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'mark-compact'],
]);

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = /** @type {{ detail?: { kind?: number } }} */ (/** @type {unknown} */ (entry)).detail?.kind;
    pauses.push([performance.timeOrigin + entry.startTime, entry.duration, kinds.get(kind ?? -1) ?? 'other']);
  }
}).observe({ entryTypes: ['gc'] });

onProbeSignal('gc-times', () => {
  const out = `/tmp/gc-times-${process.pid}.json`;
  writeFileSync(`${out}.part`, JSON.stringify(pauses));
  renameSync(`${out}.part`, out);
  pauses = [];
});
