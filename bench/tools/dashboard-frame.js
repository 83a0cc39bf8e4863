// What one dashboard frame costs on the event loop: a real snapshot (a short simulated rollout), turned into
// a view and drawn by Ink into an in-memory 120x40 terminal, 200 times; and the heap it keeps. Used for
// docs/benchmarks.md ("4. Dashboard cost"): every millisecond here is a millisecond the rollout's traffic waits.
//   node --expose-gc bench/tools/dashboard-frame.js [FRAMES=200]      (BENCH_REACT_DEV=1: React's development build)
import { PassThrough, Writable } from 'node:stream';
import { loadUiAsProduction } from '../../dist/cli/production-ui.js';
import { positionalArgs } from '../lib/args.js';

// As bin/bluegreen.js does, before anything imports React.
if (!process.env.BENCH_REACT_DEV) await loadUiAsProduction();
const { createElement } = await import('react');
const { render } = await import('ink');
const { Dashboard } = await import('../../dist/report/ink/components/Dashboard.js');
const { buildDashboardView } = await import('../../dist/report/ink/view-model.js');
const { createBenchEngine, openClients } = await import('../lib/engine.js');
const { planFromYaml } = await import('../lib/plan.js');

const { frames: FRAMES } = positionalArgs({ frames: 200 });
const plan = planFromYaml(`
name: dashboard-frame
upstream: { api: openai, simulate: { models: { bench-blue: { latency: { p50: 20ms, p95: 60ms } }, bench-green: { latency: { p50: 20ms, p95: 60ms } } } } }
blue: { model: bench-blue, price: { input_per_mtok: 2.5, output_per_mtok: 10 } }
green: { model: bench-green, price: { input_per_mtok: 2, output_per_mtok: 8 } }
traffic: { rate: 200, max_in_flight: 100, stream: 0.5, synthetic: { users: 100 } }
stages: [ { duration: 2s, green_weight: 0.1 }, { duration: 60s, green_weight: 0.5 }, { duration: 60s, green_weight: 1 } ]
analysis: { interval: 1s, min_requests: 20, thresholds: { error_rate: 0.05, latency_p95: 2s }, compare_to_blue: { max_error_rate_increase: 0.02 } }
`);
const { clients, close } = await openClients(plan);
const { engine } = await createBenchEngine({ plan, clients });
const done = engine.run();
await new Promise((resolve) => setTimeout(resolve, 3000));
const snapshot = engine.snapshot();
engine.interrupt('SIGINT');
engine.interrupt('SIGINT');
await done;
await close();

class Terminal extends Writable {
  isTTY = true;
  columns = 120;
  rows = 40;
  bytes = 0;
  /**
   * Resolved by the next write: a frame is done when Ink has written it, however React scheduled the work.
   * @type {(() => void) | undefined}
   */
  written = undefined;
  /** @override */
  _write(chunk, _encoding, callback) {
    this.bytes += chunk.length;
    this.written?.();
    this.written = undefined;
    callback();
  }
  /** @returns {Promise<void>} */
  nextWrite() {
    return new Promise((resolve) => (this.written = resolve));
  }
}
const stdout = new Terminal();
const stdin = Object.assign(new PassThrough(), { isTTY: false });
// Each frame a second later, so each one differs (Ink writes nothing for a frame equal to the last).
const frame = (i) =>
  createElement(Dashboard, {
    view: buildDashboardView(
      { ...snapshot, stageElapsedMs: snapshot.stageElapsedMs + i * 1000 },
      { now: snapshot.updatedAt + i * 1000, steadyNow: i * 1000, columns: 120, rows: 40, mode: 'control', keys: {}, keysEnabled: false },
    ),
    colors: true,
  });
const heapMb = () => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1e6;
};
// Ink uses only isTTY, columns, rows and write of its streams: these stand in for a terminal's.
const terminal = /** @type {NodeJS.WriteStream} */ (/** @type {unknown} */ (stdout));
const input = /** @type {NodeJS.ReadStream} */ (/** @type {unknown} */ (stdin));
const ink = render(frame(0), { stdout: terminal, stdin: input, stderr: terminal, exitOnCtrlC: false, patchConsole: false, maxFps: 1000 });
const heapBefore = heapMb();
const times = [];
for (let i = 1; i <= FRAMES; i++) {
  const written = stdout.nextWrite();
  const started = performance.now();
  ink.rerender(frame(i));
  const wrote = await Promise.race([written.then(() => true), new Promise((resolve) => setTimeout(resolve, 1000, false))]);
  if (wrote) times.push(performance.now() - started);
  // Let Ink's throttle window (maxFps) pass, so the next frame is drawn at once rather than deferred.
  await new Promise((resolve) => setTimeout(resolve, 2));
}
const heapAfter = heapMb();
ink.unmount();
times.sort((a, b) => a - b);
const at = (q) => (times.length ? Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] * 100) / 100 : null);
console.log(
  JSON.stringify({
    frames: FRAMES,
    framesWritten: times.length,
    react: process.env.BENCH_REACT_DEV ? 'development' : 'production',
    msPerFrame: { p50: at(0.5), p90: at(0.9), max: at(1) },
    bytesPerFrame: Math.round(stdout.bytes / FRAMES),
    // Meaningful with --expose-gc (a full collection before each reading).
    heapKeptKbPerFrame: globalThis.gc ? Math.round(((heapAfter - heapBefore) * 1000) / FRAMES) : null,
  }),
);
