// Where a process's garbage comes from: a sampling heap profile that counts what scavenges collect too (plain
// --heap-prof keeps only what is still alive), loaded into a benchmarked process with --import. The first SIGUSR2 for it (bench/lib/probe-signal.js)
// starts sampling, the next stops it and writes the profile to HEAP_SAMPLE_OUT (default /tmp/heap-PID.heapprofile).
// bench/tools/proxy-alloc.js drives it; summarise with node bench/lib/heap-summary.js FILE [N] [REQUESTS].
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { onProbeSignal } from './probe-signal.js';

const out = process.env.HEAP_SAMPLE_OUT ?? `/tmp/heap-${process.pid}.heapprofile`;
// HEAP_SAMPLE_SURVIVORS=1: leave out what scavenges collect, so the profile shows what survived them (promoted, then
// kept or collected by a mark-compact): what fills the old generation.
const survivorsOnly = process.env.HEAP_SAMPLE_SURVIVORS === '1';
const session = new Session();
session.connect();
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));

let sampling = false;
onProbeSignal('heap-sample', async () => {
  sampling = !sampling;
  if (sampling) {
    await post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: !survivorsOnly,
    });
    return;
  }
  const { profile } = /** @type {{ profile: unknown }} */ (await post('HeapProfiler.stopSampling'));
  // Whole or not there: the tool waits for the file to appear.
  writeFileSync(`${out}.part`, JSON.stringify(profile));
  renameSync(`${out}.part`, out);
});
