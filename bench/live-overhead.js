// 8c. Controller overhead, as close to the target (10 proxies at 1,000 req/s each) as a 2-core machine
// allows: N proxies at R req/s each, measured in rounds on one schedule, alternating "alone" (the route set by
// hand under a long lease) and "driven" (a `bluegreen rollout` process renewing leases and reading results),
// A B A B ... after a discarded warm-up. The spread between the "alone" rounds is the noise floor the
// driven-minus-alone deltas are read against. Each proxy's admin API is reached through a counting TCP relay, so
// the admin calls' rate and bytes per proxy per second are measured, not estimated.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { LISTEN_BACKLOG } from '../dist/proxy/listen.js';
import { createLoadClient } from './lib/open-load.js';
import { log, round } from './lib/util.js';

/** CPU seconds (user + system) a process has used, from /proc; null off Linux. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** A TCP relay in front of one admin API, counting the calls (request lines) and bytes each way. */
async function countingRelay(target) {
  const { hostname, port } = new URL(target);
  const counts = { calls: {}, bytesToProxy: 0, bytesFromProxy: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const proxy = net.connect(Number(port), hostname);
    for (const socket of [client, proxy]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk) => {
      counts.bytesToProxy += chunk.length;
      for (const match of chunk.toString('latin1').matchAll(/(?:^|\r\n)(GET|PUT) \/admin\/(\w+)/g)) {
        const key = `${match[1]} ${match[2]}`;
        counts.calls[key] = (counts.calls[key] ?? 0) + 1;
      }
    });
    proxy.on('data', (chunk) => (counts.bytesFromProxy += chunk.length));
    client.pipe(proxy);
    proxy.pipe(client);
    client.on('error', () => proxy.destroy());
    proxy.on('error', () => client.destroy());
  });
  // The proxy's listen queue, not Node's 511: a driven round's burst of new connections must not be dropped here.
  server.listen({ port: 0, host: '127.0.0.1', backlog: LISTEN_BACKLOG });
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${/** @type {net.AddressInfo} */ (server.address()).port}`,
    counts,
    reset() {
      counts.calls = {};
      counts.bytesToProxy = 0;
      counts.bytesFromProxy = 0;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

/**
 * What one results poll costs a proxy at 1,000 req/s: reading a 250-result page from its feed and serialising it,
 * as GET /admin/results does, on its event loop (a request arriving meanwhile waits that long). Real entries,
 * read from a benchmark proxy, copied into a fresh feed; the median and worst of 200 pages.
 */
async function pageStall(adminUrl) {
  const { ResultsFeed } = await import('../dist/proxy/results-feed.js');
  const answer = await fetch(`${adminUrl}/admin/results?after=0`, { headers: { authorization: 'Bearer bench-admin-token' } });
  const sample = /** @type {import('../dist/proxy/results-feed.js').FeedAnswer} */ (await answer.json()).results.slice(-50);
  const feed = new ResultsFeed(1000);
  for (let i = 0; i < 250; i++) {
    const entry = sample[i % sample.length];
    feed.push(entry.result, entry.kind, entry.quality, entry.stage);
  }
  const times = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    JSON.stringify({ ...feed.read(0), epoch: feed.epoch });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  // The controller's side of the same page: parse it and record every result into the metrics the judge reads.
  const { MetricsRecorder } = await import('../dist/metrics/index.js');
  const text = JSON.stringify({ ...feed.read(0), epoch: feed.epoch });
  const metrics = new MetricsRecorder({ stages: [{ durationMs: 600_000, greenWeight: 0.5 }], prices: { blue: undefined, green: undefined }, now: Date.now });
  const reps = 200;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) for (const entry of JSON.parse(text).results) metrics.recordResult(0, entry.result, entry.quality);
  const controllerMsPerResult = (performance.now() - t0) / (reps * 250);
  return { pageResults: 250, medianMs: round(times[100], 3), worstMs: round(times.at(-1), 3), controllerMsPerResult: round(controllerMsPerResult, 4) };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * @param {object} o
 * @param {(yaml: string) => Promise<{ proxy: any, close: () => Promise<void> }>} o.startProxy
 * @param {(yaml: string) => { child: import('node:child_process').ChildProcess, stderr: () => string }} o.startRollout
 * @param {(options: { stages: string[], adminUrls?: string[] }) => string} o.planYaml
 * @param {(check: () => boolean, ms: number) => Promise<boolean>} o.waitFor
 * @param {number} o.proxies how many proxies
 * @param {number} o.rate requests per second to each
 * @param {number} o.seconds one round's length
 * @param {number} o.pairs alone/driven pairs measured
 */
export async function overheadScenario({ startProxy, startRollout, planYaml, waitFor, proxies: count, rate, seconds, pairs }) {
  const proxies = [];
  for (let i = 0; i < count; i++) proxies.push(await startProxy(planYaml({ stages: ['{ duration: 1s, green_weight: 0 }'] })));
  const relays = await Promise.all(proxies.map((p) => countingRelay(p.proxy.adminUrl)));
  const loads = proxies.map((p) => createLoadClient(p.proxy.url));
  const body = { model: 'bench-blue', messages: [{ role: 'user', content: 'hi' }] };

  const runLoad = async (at = rate) => {
    const results = await Promise.all(loads.map((load) => load.run({ path: '/v1/chat/completions', body, rate: at, seconds })));
    return {
      // The median proxy's p50 and p99: one slow proxy of ten (a scheduling hiccup) does not decide the round.
      p50Ms: round(median(results.map((r) => r.latencyMs.p50)), 3),
      p99Ms: round(median(results.map((r) => r.latencyMs.p99)), 3),
      completed: results.reduce((s, r) => s + r.completed, 0),
      errors: results.reduce((s, r) => s + r.errors, 0),
      dropped: results.reduce((s, r) => s + r.dropped, 0),
    };
  };
  const byHand = () => {
    for (const p of proxies) p.proxy.route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: Date.now() + 600_000, reason: 'bench: by hand' });
  };

  const alone = async () => {
    byHand();
    return { kind: 'alone', ...(await runLoad()) };
  };
  const driven = async (at = rate) => {
    const rollout = startRollout(planYaml({ stages: ['{ duration: 10m, green_weight: 0.5 }'], adminUrls: relays.map((r) => r.url) }));
    const set = await waitFor(() => proxies.every((p) => p.proxy.route.stored.reason?.startsWith('stage 1/1')), 30_000);
    // A renewal and a few polls before measuring: the controller is in its steady state.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const relay of relays) relay.reset();
    const cpuBefore = cpuSeconds(rollout.child.pid);
    const started = Date.now();
    const figures = await runLoad(at);
    const elapsed = (Date.now() - started) / 1000;
    const cpuAfter = cpuSeconds(rollout.child.pid);
    const stillDriving = proxies.every((p) => p.proxy.route.stored.reason?.startsWith('stage 1/1'));
    rollout.child.kill('SIGTERM');
    await once(rollout.child, 'exit');
    const calls = {};
    let bytes = 0;
    for (const relay of relays) {
      for (const [key, n] of Object.entries(relay.counts.calls)) calls[key] = (calls[key] ?? 0) + n;
      bytes += relay.counts.bytesToProxy + relay.counts.bytesFromProxy;
    }
    const perProxySecond = (n) => round(n / count / elapsed, 1);
    return {
      kind: 'driven',
      ...figures,
      routeSet: set,
      stillDriving,
      controllerCpuPercent: cpuBefore === null || cpuAfter === null ? null : round((100 * (cpuAfter - cpuBefore)) / elapsed, 1),
      adminCallsPerProxySecond: Object.fromEntries(Object.entries(calls).map(([key, n]) => [key, perProxySecond(n)])),
      adminBytesPerProxySecond: perProxySecond(bytes),
      adminBytesPerResult: figures.completed > 0 ? round(bytes / figures.completed, 0) : null,
    };
  };

  await alone(); // warm-up, discarded
  const rounds = [];
  for (let i = 0; i < pairs; i++) {
    for (const round of [alone, driven]) {
      const started = Date.now();
      const figures = await round();
      log(
        `  ${figures.kind}: p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, ${figures.errors} errors, ${figures.dropped} dropped (${Date.now() - started} ms)`,
      );
      rounds.push(figures);
    }
  }
  // The controller's CPU at a fifth of the rate: two points separate its fixed cost (calls, files, judging
  // every interval) from its cost per result, for the extrapolation to the target.
  const lowRate = Math.max(1, Math.round(rate / 5));
  const low = await driven(lowRate);
  log(`  driven at ${lowRate} req/s: controller CPU ${low.controllerCpuPercent}%`);
  const stall = await pageStall(proxies[0].proxy.adminUrl);
  for (const load of loads) await load.close();
  for (const relay of relays) await relay.close();
  for (const p of proxies) await p.close();

  const A = rounds.filter((r) => r.kind === 'alone');
  const B = /** @type {Awaited<ReturnType<typeof driven>>[]} */ (rounds.filter((r) => r.kind === 'driven'));
  const deltas = (field) => B.map((b, i) => round(b[field] - A[i][field], 3));
  const spread = (field) => round(Math.max(...A.map((a) => a[field])) - Math.min(...A.map((a) => a[field])), 3);
  const cpu = B.map((b) => b.controllerCpuPercent).filter((v) => v !== null);
  const cpuPercent = cpu.length ? round(cpu.reduce((s, v) => s + v, 0) / cpu.length, 1) : null;
  // CPU% at the target = what it costs at a low rate (the calls to every proxy, files, judging: fixed) + the
  // per-result work timed in isolation x 10,000 results/s. At these rates the per-result part is within the
  // CPU measurement's noise, which is why it is timed apart.
  const fixed = low.controllerCpuPercent;
  const perResultPercent = stall.controllerMsPerResult / 10; // ms of CPU per result per second, as % of a core
  return {
    proxies: count,
    ratePerProxy: rate,
    seconds,
    pairs,
    rounds,
    addedP50Ms: { median: round(median(deltas('p50Ms')), 3), each: deltas('p50Ms'), noiseFloor: spread('p50Ms') },
    addedP99Ms: { median: round(median(deltas('p99Ms')), 3), each: deltas('p99Ms'), noiseFloor: spread('p99Ms') },
    controllerCpuPercent: cpuPercent,
    controllerCpuPercentAtLowRate: { ratePerProxy: lowRate, percent: fixed },
    controllerMsPerResult: stall.controllerMsPerResult,
    // The target's 10 proxies x 1,000 req/s: the controller by the two-point fit; the proxy by what it
    // serialises per poll (a 250 ms page of results at 1,000 req/s), timed on the proxy's own feed code.
    extrapolated: {
      resultsPerSecond: 10_000,
      controllerCpuPercent: fixed === null ? null : round(fixed + perResultPercent * 10_000, 0),
      adminBytesPerProxySecond: B[0]?.adminBytesPerResult == null ? null : round(B[0].adminBytesPerResult * 1000, 0),
      proxyPageStallMs: { pageResults: stall.pageResults, medianMs: stall.medianMs, worstMs: stall.worstMs },
    },
    adminCallsPerProxySecond: B.at(-1)?.adminCallsPerProxySecond,
    adminBytesPerProxySecond: round(median(B.map((b) => b.adminBytesPerProxySecond)), 0),
    adminBytesPerResult: round(median(B.map((b) => b.adminBytesPerResult ?? 0)), 0),
    allDriven: B.every((b) => b.routeSet && b.stillDriving),
  };
}
