// Counts of work a benchmarked process does, insensitive to how loaded the machine is: bytes allocated (exact,
// from V8's heap before and after each GC, not sampled), async resources created by type (timers, ticks,
// promises, immediates, ...), listeners added to emitters, and socket writes and the bytes they carry. Loaded
// with --import; the first SIGUSR2 for it (bench/lib/probe-signal.js) starts counting, the next stops it and writes the counts as JSON to
// WORK_COUNT_OUT (default /tmp/work-PID.json). bench/tools/proxy-work.js drives it.
import { createHook } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { writeFileSync, renameSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { countAllocation } from './allocated.js';
import { onProbeSignal } from './probe-signal.js';

const out = process.env.WORK_COUNT_OUT ?? `/tmp/work-${process.pid}.json`;
let counting = false;
let types = new Map();
let listeners = 0;
let writes = 0;
let writtenBytes = 0;
let requests = 0;
let allocation;

const hook = createHook({
  init(_id, type) {
    types.set(type, (types.get(type) ?? 0) + 1);
  },
});

// Listeners added while counting (on, once, prepend...: all go through addListener's internal path via `on`).
const emitterProto = /** @type {any} */ (EventEmitter.prototype);
const on = emitterProto.on;
emitterProto.on = emitterProto.addListener = function (/** @type {unknown[]} */ ...args) {
  if (counting) listeners++;
  return on.apply(this, args);
};

// Requests this process's HTTP server took while counting: what the counts are divided by (a loaded machine's
// client completes fewer than it sends, and the answers it gave up on cost the server all the same).
const serverProto = /** @type {any} */ (http.Server.prototype);
const emit = serverProto.emit;
serverProto.emit = function (/** @type {string} */ type, /** @type {unknown[]} */ ...args) {
  if (counting && (type === 'request' || type === 'checkContinue')) requests++;
  return emit.call(this, type, ...args);
};

// Each write a socket hands to the kernel side (one writev of a corked batch counts once).
// Node's internal write path (not in its types), shared by write and writev.
const socketProto = /** @type {any} */ (net.Socket.prototype);
const writeGeneric = socketProto._writeGeneric;
socketProto._writeGeneric = function (writev, data, encoding, cb) {
  if (counting) {
    writes++;
    if (writev) for (const one of data) writtenBytes += one.chunk.length;
    else writtenBytes += data.length;
  }
  return writeGeneric.call(this, writev, data, encoding, cb);
};

function start() {
  types = new Map();
  listeners = 0;
  writes = 0;
  writtenBytes = 0;
  requests = 0;
  allocation = countAllocation();
  hook.enable();
  counting = true;
}

function stop() {
  counting = false;
  hook.disable();
  const { allocated, gcs } = allocation.stop();
  const counts = { requests, allocated, gcs, listeners, writes, writtenBytes, types: Object.fromEntries([...types].sort((a, b) => b[1] - a[1])) };
  writeFileSync(`${out}.part`, JSON.stringify(counts));
  renameSync(`${out}.part`, out);
}

onProbeSignal('work-count', () => (counting ? stop() : start()));
