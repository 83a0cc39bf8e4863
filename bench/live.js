// 8. Live rollouts: `bluegreen rollout` (a separate process) driving proxies started in this process in front
// of the built-in simulator.
//  a) kill -9 of the controller mid-stage: time until every proxy is back on blue (target <= lease + 1 s).
//  b) green fails every request from a moment in stage 1, with fallback: failed application requests (target
//     0, the application being the official openai SDK at a steady rate) and time from the fault to every
//     proxy's route at 0 (target <= one analysis interval + 1 s).
//  c) controller overhead (bench/live-overhead.js): application latency through 10 proxies at R req/s each, in
//     alternating rounds with a rollout driving them and with the same route set by hand; the controller's CPU
//     and its admin calls' rate and bytes per proxy per second.
import OpenAI from 'openai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEndpoints } from '../dist/cli/endpoints.js';
import { loadPlan } from '../dist/plan/load.js';
import { proxySettings } from '../dist/proxy/config.js';
import { proxyBlockOf } from '../dist/plan/proxy-schema.js';
import { startProxy } from '../dist/proxy/server.js';
import { overheadScenario } from './live-overhead.js';
import { tempDir, writePlanFile } from './lib/plan.js';
import { QUICK, envNumber, log, writeResult } from './lib/util.js';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'bluegreen.js');
const TOKEN = 'bench-admin-token';
const LEASE_MS = envNumber('BENCH_LIVE_LEASE_MS', 3000);
const INTERVAL_MS = envNumber('BENCH_LIVE_INTERVAL_MS', 1000);
const PROXIES = envNumber('BENCH_LIVE_PROXIES', QUICK ? 2 : 4);
const OVERHEAD_PROXIES = envNumber('BENCH_LIVE_OVERHEAD_PROXIES', QUICK ? 4 : 10);
const RATE = envNumber('BENCH_LIVE_RATE', QUICK ? 25 : 50);
const SECONDS = envNumber('BENCH_LIVE_SECONDS', QUICK ? 3 : 6);
const PAIRS = envNumber('BENCH_LIVE_PAIRS', QUICK ? 1 : 3);

/** @param {{ stages: string[], greenChange?: string, adminUrls?: string[] }} options */
function planYaml({ greenChange = '', stages, adminUrls }) {
  const controller = adminUrls ? `, controller: { admin_urls: [${adminUrls.join(', ')}], lease: ${LEASE_MS}ms }` : '';
  return `
name: bench-live
upstream:
  api: openai
  simulate:
    seed: 9
    models:
      bench-blue:  { latency: { p50: 20ms, p95: 40ms }, ttft: 5ms, tokens_per_second: 5000, output_tokens: { min: 5, max: 20 } }
      bench-green: { latency: { p50: 20ms, p95: 40ms }, ttft: 5ms, tokens_per_second: 5000, output_tokens: { min: 5, max: 20 }${greenChange} }
  timeout: { connect: 2s, request: 10s }
blue:  { model: bench-blue }
green: { model: bench-green }
traffic: { rate: 10 }
stages:
${stages.map((s) => `  - ${s}`).join('\n')}
analysis: { interval: ${INTERVAL_MS}ms, min_requests: 10, thresholds: { error_rate: 0.05, consecutive_errors: 5 } }
proxy: { fallback: true, limits: { max_concurrency: 4096 }, admin: { token_env: ADMIN_TOKEN }${controller} }
`;
}

/** A proxy in this process; `events` records when its route changed, by its own log lines. */
async function startBenchProxy(yaml) {
  const dir = tempDir();
  const plan = loadPlan(writePlanFile(yaml, dir), dir);
  const env = { ADMIN_TOKEN: TOKEN };
  const settings = proxySettings(plan, proxyBlockOf(plan), { listen: '127.0.0.1:0', adminListen: '127.0.0.1:0', env, cwd: dir });
  const endpoints = await openEndpoints(plan);
  const upstreams = /** @type {Record<import('../dist/plan/plan.js').ArmName, import('../dist/proxy/targets.js').ArmUpstream>} */ ({});
  for (const arm of ['blue', 'green']) upstreams[arm] = { arm, model: endpoints.arms[arm].model, upstream: endpoints.arms[arm].upstream };
  const events = [];
  const proxy = await startProxy({ plan, settings, upstreams, env, stateDir: dir, log: (message) => events.push({ at: Date.now(), message }) });
  return { proxy, events, close: async () => (await proxy.close(), await endpoints.close()) };
}

function startRollout(yaml) {
  const dir = tempDir();
  writePlanFile(yaml, dir);
  const child = spawn(process.execPath, [BIN, 'rollout', 'plan.yaml', '--ci'], {
    cwd: dir,
    env: { PATH: process.env.PATH, ADMIN_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return { child, stderr: () => stderr };
}

async function waitFor(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return true;
}

/** The application: the official openai SDK, one request every 1000/rate ms per proxy (open model). */
function application(proxies, rate) {
  const clients = proxies.map((p) => new OpenAI({ baseURL: `${p.proxy.url}/v1`, apiKey: 'bench', maxRetries: 0 }));
  const tally = { sent: 0, failed: 0, green: 0, fallbacks: 0 };
  const pending = new Set();
  const timers = clients.map((client) =>
    setInterval(() => {
      tally.sent++;
      const call = client.chat.completions
        .create({ model: 'bench-blue', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse()
        .then(({ response }) => {
          if (response.headers.get('x-bluegreen-arm') === 'green') tally.green++;
          if (response.headers.get('x-bluegreen-fallback') === 'true') tally.fallbacks++;
        })
        .catch(() => tally.failed++)
        .finally(() => pending.delete(call));
      pending.add(call);
    }, 1000 / rate),
  );
  return {
    tally,
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      await Promise.all([...pending]);
    },
  };
}

async function killScenario() {
  const proxies = [];
  for (let i = 0; i < PROXIES; i++) proxies.push(await startBenchProxy(planYaml({ stages: ['{ duration: 1s, green_weight: 0 }'] })));
  const app = application(proxies, 20);
  const rollout = startRollout(
    planYaml({ stages: ['{ duration: 10m, green_weight: 0.5 }'], adminUrls: proxies.map((p) => /** @type {string} */ (p.proxy.adminUrl)) }),
  );
  const set = await waitFor(() => proxies.every((p) => p.proxy.route.effective().greenWeight === 0.5), 30_000);
  // Let a few renewals happen, so the kill lands at a random point of the renewal cycle.
  await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 1.3));
  const killedAt = Date.now();
  rollout.child.kill('SIGKILL');
  await once(rollout.child, 'exit');
  await waitFor(() => proxies.every((p) => p.proxy.route.effective().greenWeight === 0), LEASE_MS + 10_000);
  const backAt = proxies.map((p) => p.events.find((e) => e.at >= killedAt && e.message.includes('lease expired'))?.at);
  await app.stop();
  for (const p of proxies) await p.close();
  const worst = backAt.every((t) => t !== undefined) ? Math.max(...backAt.map((t) => t - killedAt)) : null;
  return {
    proxies: PROXIES,
    leaseMs: LEASE_MS,
    routeSet: set,
    blueAfterKillMs: backAt.map((t) => (t === undefined ? null : t - killedAt)),
    worstMs: worst,
    applicationFailures: app.tally.failed,
    met: worst !== null && worst <= LEASE_MS + 1000,
  };
}

async function failingGreenScenario() {
  const faultAfterMs = 8000;
  const proxies = [];
  const faults = [];
  // Each proxy's simulator counts the fault time from its own start (a `changes` entry): green fails on each
  // proxy faultAfterMs after that proxy started.
  for (let i = 0; i < PROXIES; i++) {
    faults.push(Date.now() + faultAfterMs);
    proxies.push(
      await startBenchProxy(planYaml({ stages: ['{ duration: 1s, green_weight: 0 }'], greenChange: `, changes: [{ at: ${faultAfterMs}ms, error_rate: 1 }]` })),
    );
  }
  const app = application(proxies, 25);
  const rollout = startRollout(
    planYaml({
      stages: ['{ duration: 5m, green_weight: 0.25 }', '{ duration: 5m, green_weight: 0.5 }'],
      adminUrls: proxies.map((p) => /** @type {string} */ (p.proxy.adminUrl)),
    }),
  );
  let stageAt;
  void waitFor(() => proxies.every((p) => p.proxy.route.stored.reason?.startsWith('stage 1/')), 60_000).then(() => (stageAt = Date.now()));
  const [code] = await once(rollout.child, 'exit');
  // Green starts failing under traffic at the first proxy's fault, or when stage 1 reached every proxy if the
  // rollout (slow to start on a busy machine) got there later: the clock of the target starts then.
  const faultAt = Math.max(Math.min(...faults), stageAt ?? 0);
  const blueAt = proxies.map((p) => p.events.find((e) => e.at >= faultAt && /route set: green 0%, mirror 0%/.test(e.message))?.at);
  await app.stop();
  for (const p of proxies) await p.close();
  const worst = blueAt.every((t) => t !== undefined) ? Math.max(...blueAt.map((t) => t - faultAt)) : null;
  return {
    proxies: PROXIES,
    intervalMs: INTERVAL_MS,
    exitCode: code,
    faultInStage1: stageAt !== undefined && stageAt <= Math.min(...faults),
    rollbackAfterFaultMs: worst,
    applicationRequests: app.tally.sent,
    applicationFailures: app.tally.failed,
    fallbacks: app.tally.fallbacks,
    met: code === 10 && app.tally.failed === 0 && worst !== null && worst <= INTERVAL_MS + 1000,
  };
}

// BENCH_LIVE_ONLY=overhead (or kill, failing) runs one scenario alone, printing its figures (not for run.js).
const ONLY = process.env.BENCH_LIVE_ONLY;
const scenarios = {
  kill: () => (log(`kill -9 of the controller, ${PROXIES} proxies, lease ${LEASE_MS} ms`), killScenario()),
  failing: () => (log(`green failing 100% in stage 1, fallback on, ${PROXIES} proxies, interval ${INTERVAL_MS} ms`), failingGreenScenario()),
  overhead: () => {
    log(`controller overhead: ${OVERHEAD_PROXIES} proxies x ${RATE} req/s, ${PAIRS} alone/driven pairs of ${SECONDS} s`);
    return overheadScenario({
      startProxy: startBenchProxy,
      startRollout,
      planYaml,
      waitFor,
      proxies: OVERHEAD_PROXIES,
      rate: RATE,
      seconds: SECONDS,
      pairs: PAIRS,
    });
  },
};
const result = { name: 'live' };
for (const [name, run] of Object.entries(scenarios)) {
  if (ONLY && ONLY !== name) continue;
  result[name] = await run();
  log(JSON.stringify(result[name]));
}
writeResult({ ...result, met: Boolean(result.kill?.met && result.failing?.met) });
