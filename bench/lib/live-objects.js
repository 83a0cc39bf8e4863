// What a finished request leaves alive in a benchmarked process, loaded with --import: each SIGUSR2 for it (bench/lib/probe-signal.js) runs a full GC
// and writes LIVE_OBJECTS_OUT (default /tmp/live-PID.json): the live IncomingMessage and ServerResponse count
// (v8.queryObjects), with LIVE_OBJECTS_SNAPSHOT=1 a heap snapshot beside it (FILE.N.heapsnapshot, N the probe's number) for
// bench/lib/retainers.js. bench/tools/proxy-retained.js drives it.
import { IncomingMessage, ServerResponse } from 'node:http';
import { renameSync, writeFileSync } from 'node:fs';
import { queryObjects, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { onProbeSignal } from './probe-signal.js';

const out = process.env.LIVE_OBJECTS_OUT ?? `/tmp/live-${process.pid}.json`;
setFlagsFromString('--expose-gc');
const gc = /** @type {() => void} */ (runInNewContext('gc'));

let probes = 0;
onProbeSignal('live-objects', () => {
  probes++;
  gc();
  // The second full GC finds no garbage left: its CPU (the process's, V8's helper threads included) is what
  // marking and compacting the live heap costs.
  const started = process.cpuUsage();
  gc();
  const { user, system } = process.cpuUsage(started);
  const fullGcCpuMs = Math.round((user + system) / 10) / 100;
  const counts = {
    IncomingMessage: queryObjects(IncomingMessage, { format: 'count' }),
    ServerResponse: queryObjects(ServerResponse, { format: 'count' }),
    heapUsed: process.memoryUsage().heapUsed,
    fullGcCpuMs,
  };
  if (process.env.LIVE_OBJECTS_SNAPSHOT === '1') writeHeapSnapshot(`${out}.${probes}.heapsnapshot`);
  writeFileSync(`${out}.part`, JSON.stringify(counts));
  renameSync(`${out}.part`, out);
});
