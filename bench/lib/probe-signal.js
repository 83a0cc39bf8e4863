// SIGUSR2 for the probes a benchmarked process loads with --import (gc-count, live-objects, heap-sample, cpu-sample,
// work-count, critical-path, first-write: each names itself with onProbeSignal), so several can be loaded at once and
// a driver triggers one of them. The driver's signalProbe(pid, name) appends the probe's name to the process's
// request file (probeRequestFile) and sends SIGUSR2; the process takes the file and runs the probes it names, in
// order, one run a line (two requests whose signals arrived as one are both run). A SIGUSR2 with no request file,
// in a process that has never had one, runs every probe loaded: `kill -USR2 PID` by hand, with one probe loaded.
import { readFileSync, renameSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where a driver asks process `pid` for a probe's run. */
export const probeRequestFile = (/** @type {number} */ pid) => path.join(tmpdir(), `bench-probe-${pid}`);

/** @type {Map<string, () => unknown>} */
const probes = new Map();
/** A request file was seen: a later signal without one is a request already run (two signals, one file). */
let named = false;

/** The names requested since the last signal, the file taken away first so a request appended meanwhile waits for its own signal. */
function takeRequests() {
  const file = probeRequestFile(process.pid);
  const taken = `${file}.taken`;
  try {
    renameSync(file, taken);
  } catch {
    return named ? [] : [...probes.keys()];
  }
  named = true;
  const names = readFileSync(taken, 'utf8').split('\n').filter(Boolean);
  rmSync(taken, { force: true });
  return names;
}

/** `run` is called at each SIGUSR2 that asks for `name` (or names no probe: see above). */
export function onProbeSignal(/** @type {string} */ name, /** @type {() => unknown} */ run) {
  if (probes.size === 0) {
    process.on('SIGUSR2', () => {
      for (const requested of takeRequests()) {
        const probe = probes.get(requested);
        if (probe) void probe();
        else process.emitWarning(`bench probe signal: no probe "${requested}" loaded (loaded: ${[...probes.keys()].join(', ')})`);
      }
    });
  }
  probes.set(name, run);
}

/** The driver's side: asks process `pid` to run its probe `name` (loaded with --import). */
export function signalProbe(/** @type {number} */ pid, /** @type {string} */ name) {
  appendFileSync(probeRequestFile(pid), `${name}\n`);
  process.kill(pid, 'SIGUSR2');
}
