// What one dashboard frame costs on the event loop: a real snapshot (a short simulated rollout), turned into
// a view and drawn by Ink into an in-memory 120x40 terminal, 200 times. Used for docs/benchmarks.md
// ("4. Dashboard cost"): every millisecond here is a millisecond the rollout's traffic waits.
//   node bench/tools/dashboard-frame.js [frames]
import { PassThrough, Writable } from 'node:stream';
import { createElement } from 'react';
import { render } from 'ink';
import { Dashboard } from '../../dist/report/ink/components/Dashboard.js';
import { buildDashboardView } from '../../dist/report/ink/view-model.js';
import { createBenchEngine, openClients } from '../lib/engine.js';
import { planFromYaml } from '../lib/plan.js';

const FRAMES = Number(process.argv[2] ?? 200);
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
  _write(chunk, _encoding, callback) {
    this.bytes += chunk.length;
    callback();
  }
}
const stdout = new Terminal();
const stdin = Object.assign(new PassThrough(), { isTTY: false });
// Each frame a little later, as the dashboard's timer would draw it.
const frame = (i) =>
  createElement(Dashboard, {
    view: buildDashboardView({ ...snapshot, stageElapsedMs: snapshot.stageElapsedMs + i * 250 }, { now: snapshot.updatedAt + i * 250, columns: 120, rows: 40, mode: 'control', keys: {}, keysEnabled: false }),
    colors: true,
  });
const ink = render(frame(0), { stdout, stdin, stderr: stdout, exitOnCtrlC: false, patchConsole: false, maxFps: 1000 });
const times = [];
for (let i = 1; i <= FRAMES; i++) {
  const started = performance.now();
  ink.rerender(frame(i));
  times.push(performance.now() - started);
  await new Promise((resolve) => setImmediate(resolve));
}
ink.unmount();
times.sort((a, b) => a - b);
const at = (q) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] * 100) / 100;
console.log(JSON.stringify({ frames: FRAMES, msPerFrame: { p50: at(0.5), p90: at(0.9), max: at(1) }, bytesPerFrame: Math.round(stdout.bytes / FRAMES) }));
