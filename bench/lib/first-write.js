// What a benchmarked process runs between an upstream answer's headers (undici's `undici:request:headers`) and
// its next socket write, the client's first bytes: async resources created by type (ticks, immediates, timers,
// microtasks, promises) and the time between, in-process. Meant for one request at a time (a later request's work
// would count too). Loaded with --import; the first SIGUSR2 for it (bench/lib/probe-signal.js) starts counting, the next stops it and writes the
// figures as JSON to /tmp/first-write-PID.json. bench/tools/first-write.js drives it. With FIRST_WRITE_BYTES=1 in
// its environment it also counts the bytes allocated between the two, exactly (V8's heap in use before and after;
// a reading costs ~3 us, so the times are not comparable with a run without it).
import { createHook } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';
import { renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import v8 from 'node:v8';
import { onProbeSignal } from './probe-signal.js';

let counting = false;
/** Between an answer's headers and the next write. */
let open = false;
let mark = 0n;
let types = new Map();
/** @type {number[]} */
let elapsed = [];
const countBytes = process.env.FIRST_WRITE_BYTES === '1';
const heapUsed = () => v8.getHeapStatistics().used_heap_size;
/** What one reading of the heap allocates itself (its result object), taken off each count. */
function readingCost() {
  const before = heapUsed();
  return heapUsed() - before;
}
const readingBytes = countBytes ? Math.min(...Array.from({ length: 5 }, readingCost)) : 0;
let heapAt = 0;
/** @type {number[]} */
let bytes = [];

const hook = createHook({
  init(_id, type) {
    if (open) types.set(type, (types.get(type) ?? 0) + 1);
  },
});

diagnostics.subscribe('undici:request:headers', () => {
  if (!counting) return;
  open = true;
  mark = process.hrtime.bigint();
  if (countBytes) heapAt = heapUsed();
});

const socketProto = /** @type {any} */ (net.Socket.prototype);
const writeGeneric = socketProto._writeGeneric;
socketProto._writeGeneric = function (/** @type {unknown[]} */ ...args) {
  if (open) {
    open = false;
    elapsed.push(Number(process.hrtime.bigint() - mark) / 1000);
    // A scavenge between the two readings makes the difference meaningless: negative ones are dropped.
    if (countBytes) {
      const allocated = heapUsed() - heapAt - readingBytes;
      if (allocated >= 0) bytes.push(allocated);
    }
  }
  return writeGeneric.apply(this, args);
};

function stop() {
  counting = false;
  open = false;
  hook.disable();
  const n = elapsed.length;
  const sorted = [...elapsed].sort((a, b) => a - b);
  const at = (/** @type {number} */ q) => sorted[Math.min(n - 1, Math.floor(q * n))] ?? 0;
  const figures = {
    answers: n,
    types: Object.fromEntries([...types].map(([type, count]) => [type, count / n])),
    us: { min: at(0), p50: at(0.5), p90: at(0.9) },
    ...(countBytes && { bytes: [...bytes].sort((a, b) => a - b)[bytes.length >> 1] ?? 0 }),
  };
  const out = `/tmp/first-write-${process.pid}.json`;
  writeFileSync(`${out}.part`, JSON.stringify(figures));
  renameSync(`${out}.part`, out);
}

onProbeSignal('first-write', () => {
  if (counting) return stop();
  types = new Map();
  elapsed = [];
  bytes = [];
  hook.enable();
  counting = true;
});
