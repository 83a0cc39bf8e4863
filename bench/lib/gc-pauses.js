// The GC pauses of one benchmarked process (wall time, as the requests waiting on them see it), by kind: loaded with
// --import (PROXY_NODE_ARGS / PROXY_BASE_NODE_ARGS / BARE_NODE_ARGS of bench/tools/proxy-cpu.js or proxy-latency.js),
// it writes at exit to GC_PAUSES_OUT (default /tmp/gc-PID.json) each kind's count, sum, p50, p90 and max in ms, and
// every pause as [kind, ms, ms since the process started]. Read beside the run's p99: a pause of 50 ms at 8,000 req/s
// holds 400 requests.
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';

const out = process.env.GC_PAUSES_OUT ?? `/tmp/gc-${process.pid}.json`;
const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};
/** @type {[string, number, number][]} */
const pauses = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = /** @type {{ detail?: { kind?: number } }} */ (entry).detail?.kind ?? -1;
    pauses.push([KINDS[kind] ?? String(kind), Math.round(entry.duration * 1000) / 1000, Math.round(entry.startTime)]);
  }
}).observe({ entryTypes: ['gc'] });

process.on('exit', () => {
  /** @type {Record<string, number[]>} */
  const byKind = {};
  for (const [kind, ms] of pauses) (byKind[kind] ??= []).push(ms);
  const summary = Object.fromEntries(
    Object.entries(byKind).map(([kind, ms]) => {
      const sorted = [...ms].sort((a, b) => a - b);
      const at = (/** @type {number} */ q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
      const sum = Math.round(sorted.reduce((a, b) => a + b, 0));
      return [kind, { count: sorted.length, sumMs: sum, p50Ms: at(0.5), p90Ms: at(0.9), maxMs: sorted.at(-1) }];
    }),
  );
  writeFileSync(out, JSON.stringify({ argv: process.argv.slice(1, 3), summary, pauses }));
});
