// A benchmarked process's GC pauses and event-loop holds (bench/lib/stall-record.js), for bench/proxy.js to say where
// a slow round's time went (bench/lib/stalls.js). Loaded with --import; each SIGUSR2 for it (bench/lib/probe-signal.js)
// writes what was recorded since the last one to /tmp/stall-times-PID.json and starts afresh.
import { renameSync, writeFileSync } from 'node:fs';
import { onProbeSignal } from './probe-signal.js';
import { recordGcPauses, recordLoopHolds } from './stall-record.js';

const gc = recordGcPauses();
const holds = recordLoopHolds();

onProbeSignal('stall-times', () => {
  const out = `/tmp/stall-times-${process.pid}.json`;
  writeFileSync(`${out}.part`, JSON.stringify({ gc: gc.take(), holds: holds.take() }));
  renameSync(`${out}.part`, out);
});
