// The young generation's work in one benchmarked process, counted per request so a loaded machine changes it little:
// loaded with --import, the first SIGUSR2 for it (bench/lib/probe-signal.js) starts counting and the next writes to GC_COUNT_OUT (default
// /tmp/gc-count-PID.json) the requests the process's server took, the bytes allocated (exact, bench/lib/allocated.js's
// rule), and for each GC its kind, wall time and what it moved: a scavenge's cost grows with the bytes it copies
// (the young objects still alive, copied within the young generation or promoted to the old one), not with the
// young generation's size. With it, the process's memory at that moment: RSS (anonymous and file-backed, from /proc),
// the JS heap used and committed (and each heap space's), and the bytes outside it (external, array buffers): what
// tells a growing heap from RSS the allocator keeps. bench/tools/proxy-gc.js and proxy-feed.js drive it.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import v8 from 'node:v8';
import { onProbeSignal } from './probe-signal.js';

const out = process.env.GC_COUNT_OUT ?? `/tmp/gc-count-${process.pid}.json`;
const YOUNG = new Set(['new_space', 'new_large_object_space']);
let requests = 0;
/** @type {InstanceType<typeof v8.GCProfiler> | undefined} */
let profiler;
let usedAtStart = 0;

const serverProto = /** @type {any} */ (http.Server.prototype);
const emit = serverProto.emit;
serverProto.emit = function (/** @type {string} */ type, /** @type {unknown[]} */ ...args) {
  if (profiler && type === 'request') requests++;
  return emit.call(this, type, ...args);
};

/** Bytes used in the young generation and outside it, from one of GCProfiler's heap space lists. */
function split(/** @type {{ spaceName: string; spaceUsedSize: number }[]} */ spaces) {
  let young = 0;
  let old = 0;
  for (const s of spaces) {
    if (YOUNG.has(s.spaceName)) young += s.spaceUsedSize;
    else old += s.spaceUsedSize;
  }
  return { young, old };
}

function start() {
  requests = 0;
  usedAtStart = v8.getHeapStatistics().used_heap_size;
  profiler = new v8.GCProfiler();
  profiler.start();
}

/** The process's memory now, in bytes; rssAnon / rssFile: RSS's anonymous and file-backed parts (Linux only). */
function memory() {
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // Not Linux: RSS's parts are left out.
  }
  /** @param {string} field */
  const bytes = (field) => {
    const kb = new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  };
  // Each heap space's committed size and use: which of them a growing heap total is (young generation, old
  // generation, code, large objects).
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
  return { rss, rssAnon: bytes('RssAnon'), rssFile: bytes('RssFile'), heapTotal, heapUsed, external, arrayBuffers, spaces };
}

function stop() {
  const used = v8.getHeapStatistics().used_heap_size;
  const { statistics } = /** @type {any} */ (profiler).stop();
  profiler = undefined;
  let allocated = 0;
  let last = usedAtStart;
  const gcs = statistics.map((/** @type {any} */ gc) => {
    allocated += gc.beforeGC.heapStatistics.usedHeapSize - last;
    last = gc.afterGC.heapStatistics.usedHeapSize;
    const before = split(gc.beforeGC.heapSpaceStatistics);
    const after = split(gc.afterGC.heapSpaceStatistics);
    const youngSize = gc.afterGC.heapSpaceStatistics.find((/** @type {any} */ s) => s.spaceName === 'new_space')?.spaceSize ?? 0;
    // survived: young bytes left after (copied within the young generation); promoted: the old spaces' growth.
    // oldAfter: the old generation's bytes after it (after a mark-compact: what the process keeps).
    return { type: gc.gcType, ms: gc.cost / 1000, survived: after.young, promoted: Math.max(0, after.old - before.old), oldAfter: after.old, youngSize };
  });
  allocated += used - last;
  writeFileSync(`${out}.part`, JSON.stringify({ requests, allocated, gcs, memory: memory() }));
  renameSync(`${out}.part`, out);
}

onProbeSignal('gc-count', () => (profiler ? stop() : start()));
