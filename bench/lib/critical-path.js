// The time a benchmarked process spends on a request's critical path, as little moved by a loaded machine as a
// clock can be: per request, from its HTTP server's `request` event to the first write on an upstream socket
// ("in": everything done before dispatching), and from the last bytes arriving on that upstream socket to the
// first write on the client's socket ("out": everything done before answering). Only requests alone in the
// process are timed (no other request between its `request` event and its first client write), so one request's
// work is never counted in another's. The same hooks time the pass-through and the proxy (no code of theirs is
// touched): the minimum and low percentiles are what the code costs when the process is not descheduled. Each
// side's tail is timed too, from the write to the event loop's next check phase (a setImmediate): the work the
// process goes on doing after the write, which holds a vCPU the woken process (upstream, client) may need.
// Loaded with --import; each SIGUSR2 for it (bench/lib/probe-signal.js) writes the samples since the last one to CRITICAL_PATH_OUT (default
// /tmp/critical-PID.json) and starts afresh. bench/tools/proxy-latency.js drives it (PROXY_CRITICAL=1).
import { renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { onProbeSignal } from './probe-signal.js';

const out = process.env.CRITICAL_PATH_OUT ?? `/tmp/critical-${process.pid}.json`;
const now = () => performance.now();
const PENDING = Symbol('critical-path pending');

let inbound = [];
let outbound = [];
let inboundTail = [];
let outboundTail = [];
/** Requests between their `request` event and their first client write. */
let open = 0;
/** The lone request's `request` event, until its upstream write. */
let requestAt;
/** The upstream socket's latest bytes while one request is open. */
let answerAt;

const serverProto = /** @type {any} */ (http.Server.prototype);
const emit = serverProto.emit;
serverProto.emit = function (/** @type {string} */ type, /** @type {any[]} */ ...args) {
  if (type === 'request') {
    const socket = args[0].socket;
    if (socket && !socket[PENDING]) {
      socket[PENDING] = true;
      open++;
      requestAt = open === 1 ? now() : undefined;
      answerAt = undefined;
    }
  }
  return emit.call(this, type, ...args);
};

const socketProto = /** @type {any} */ (net.Socket.prototype);
// Bytes read from a socket the process connected (undici reads with 'readable', through push); the server's own
// sockets are consumed by Node's HTTP parser in C++ and never come through here.
const push = socketProto.push;
socketProto.push = /** @this {any} */ function (/** @type {any} */ chunk, /** @type {any} */ encoding) {
  if (chunk !== null && open === 1 && !this.server) answerAt = now();
  return push.call(this, chunk, encoding);
};
// Node's internal write path (not in its types), shared by write and writev: one call per batch to the kernel.
const writeGeneric = socketProto._writeGeneric;
socketProto._writeGeneric = /** @this {any} */ function (/** @type {unknown[]} */ ...args) {
  const at = now();
  if (this.server) {
    if (this[PENDING]) {
      this[PENDING] = false;
      if (open === 1 && answerAt !== undefined) {
        outbound.push(at - answerAt);
        setImmediate(() => outboundTail.push(now() - at));
      }
      open--;
      answerAt = undefined;
    }
  } else if (requestAt !== undefined && open === 1) {
    inbound.push(at - requestAt);
    setImmediate(() => inboundTail.push(now() - at));
    requestAt = undefined;
  }
  return writeGeneric.apply(this, args);
};

// A scratch build may call globalThis.criticalMark?.('name') on its path: the time since the request event (or,
// for names starting `out`, since the answer's bytes arrived), for the lone request, by name.
let marks = {};
/** @type {any} */ (globalThis).criticalMark = (/** @type {string} */ name) => {
  const from = name.startsWith('out') ? answerAt : requestAt;
  if (open === 1 && from !== undefined) (marks[name] ??= []).push(now() - from);
};

onProbeSignal('critical-path', () => {
  writeFileSync(`${out}.part`, JSON.stringify({ inbound, outbound, inboundTail, outboundTail, ...marks }));
  marks = {};
  renameSync(`${out}.part`, out);
  inbound = [];
  outbound = [];
  inboundTail = [];
  outboundTail = [];
});
