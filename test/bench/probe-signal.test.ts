// bench/lib/probe-signal.js: several probes loaded in one process share SIGUSR2, and a driver runs the one it names
// (a line in the process's request file, then the signal); a bare SIGUSR2 runs every probe loaded.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAfterTest } from '../helpers/close-after-test.js';
import { killAfterTest } from '../helpers/processes.js';
import { until } from '../helpers/until.js';

const LIB = path.resolve('bench/lib');

/** A node process with `probes` loaded (bench/lib/NAME.js), writing into a folder of its own, once it is ready. */
async function probed(probes: string[]): Promise<{ pid: number; gcCount: string; liveObjects: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'probe-signal-'));
  closeAfterTest({ close: async () => rmSync(dir, { recursive: true, force: true }) });
  const files = { gcCount: path.join(dir, 'gc.json'), liveObjects: path.join(dir, 'live.json') };
  const child = killAfterTest(
    spawn(process.execPath, [...probes.map((name) => `--import=${path.join(LIB, `${name}.js`)}`), '-e', 'setInterval(() => {}, 1e6); console.log("ready")'], {
      env: { ...process.env, GC_COUNT_OUT: files.gcCount, LIVE_OBJECTS_OUT: files.liveObjects },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  // The probes register as they load, before the script runs.
  await once(child.stdout, 'data');
  return { pid: child.pid as number, ...files };
}

/** What signalProbe(pid, name) does: one line a run asked for, then the signal. */
function ask(pid: number, ...names: string[]): void {
  appendFileSync(path.join(tmpdir(), `bench-probe-${pid}`), names.map((name) => `${name}\n`).join(''));
  process.kill(pid, 'SIGUSR2');
}

describe('probe signal', () => {
  it('runs only the probe named, when two are loaded', async () => {
    const probe = await probed(['gc-count', 'live-objects']);
    ask(probe.pid, 'gc-count');
    ask(probe.pid, 'gc-count');
    await until(() => existsSync(probe.gcCount), 'gc-count to write its counts');
    // live-objects writes at once when it runs: a signal that had run it would have left its file by now.
    expect(existsSync(probe.liveObjects)).toBe(false);
    ask(probe.pid, 'live-objects');
    await until(() => existsSync(probe.liveObjects), 'live-objects to write its counts');
  });

  it('runs each request once when two arrive before the signal is handled', async () => {
    const probe = await probed(['gc-count', 'live-objects']);
    // Start and stop in one go: both are run, in order.
    ask(probe.pid, 'gc-count', 'gc-count');
    await until(() => existsSync(probe.gcCount), 'gc-count to write its counts');
    expect(existsSync(probe.liveObjects)).toBe(false);
  });

  it('runs every probe loaded at a bare SIGUSR2 (kill -USR2 by hand)', async () => {
    const probe = await probed(['live-objects']);
    process.kill(probe.pid, 'SIGUSR2');
    await until(() => existsSync(probe.liveObjects), 'live-objects to write its counts');
  });
});
