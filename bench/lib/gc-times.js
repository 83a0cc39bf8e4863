// When a benchmarked process's GC pauses were, on the wall clock the bench client shares (epoch ms, from
// performance.timeOrigin): each pause's start, length and kind (bench/lib/stall-record.js). Loaded with --import;
// each SIGUSR2 for it (bench/lib/probe-signal.js) writes the pauses since the last one to /tmp/gc-times-PID.json and
// starts afresh. bench/tools/first-byte-tail.js drives it: which of a path's slowest requests overlapped one of its
// process's pauses.
import { renameSync, writeFileSync } from 'node:fs';
import { onProbeSignal } from './probe-signal.js';
import { recordGcPauses } from './stall-record.js';

const pauses = recordGcPauses();

onProbeSignal('gc-times', () => {
  const out = `/tmp/gc-times-${process.pid}.json`;
  writeFileSync(`${out}.part`, JSON.stringify(pauses.take()));
  renameSync(`${out}.part`, out);
});
