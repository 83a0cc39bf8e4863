// A CPU profile of one benchmarked process over exactly one run, with the requests its server took meanwhile, so
// time can be divided per request: loaded with --import, the first SIGUSR2 for it (bench/lib/probe-signal.js) starts V8's sampling profiler, the next
// stops it and writes the profile (with `requests` added) to CPU_SAMPLE_OUT (default /tmp/cpu-PID.cpuprofile).
// bench/tools/proxy-profile.js drives it. Shares of a profile stay meaningful on a loaded machine; absolute times do not.
import { renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector';
import { onProbeSignal } from './probe-signal.js';

const out = process.env.CPU_SAMPLE_OUT ?? `/tmp/cpu-${process.pid}.cpuprofile`;
const session = new Session();
session.connect();
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));

let sampling = false;
let requests = 0;
const serverProto = /** @type {any} */ (http.Server.prototype);
const emit = serverProto.emit;
serverProto.emit = function (/** @type {string} */ type, /** @type {unknown[]} */ ...args) {
  if (sampling && (type === 'request' || type === 'checkContinue')) requests++;
  return emit.call(this, type, ...args);
};

await post('Profiler.enable');
await post('Profiler.setSamplingInterval', { interval: 200 });
onProbeSignal('cpu-sample', async () => {
  sampling = !sampling;
  if (sampling) {
    requests = 0;
    await post('Profiler.start');
    return;
  }
  const { profile } = /** @type {{ profile: Record<string, unknown> }} */ (await post('Profiler.stop'));
  // Whole or not there: the tool waits for the file to appear.
  writeFileSync(`${out}.part`, JSON.stringify({ ...profile, requests }));
  renameSync(`${out}.part`, out);
});
