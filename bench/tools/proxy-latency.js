// A/B for the proxy's added latency at a low fixed rate (where latency is the critical path, not CPU):
// direct, the bare pass-through, this build's proxy and optionally another build's (PROXY_BASE_BIN), in
// interleaved rounds; prints the median added p50/p99 of each path over the rounds.
//   node bench/tools/proxy-latency.js [RATE=1000] [SECONDS=2] [ROUNDS=7]   (PROXY_MODE=stream for first byte; PROXY_CONNECTIONS: the client's sockets, bench/lib/proxies.js)
// PROXY_BIN runs another build as "proxy" (a scratch build with marks, say). PROXY_CRITICAL=1 also times each
// process's own critical path (bench/lib/critical-path.js: request event to upstream write, upstream bytes to
// client write, requests alone in the process) and prints its minimum and percentiles over all rounds: what the
// code costs, read even on a loaded machine where the wall-clock percentiles above mean nothing.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLoadClient } from '../lib/open-load.js';
import { forkBare, spawnProxy, toolConnections } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
import { percentile, round, sleep } from '../lib/util.js';
import { positionalArgs } from '../lib/args.js';
import { signalProbe } from '../lib/probe-signal.js';

const { rate, seconds, rounds } = positionalArgs({ rate: 1000, seconds: 2, rounds: 7 });
const mode = process.env.PROXY_MODE ?? 'plain';
const upstream = await startUpstream({ delayMs: 0 });
const origin = `http://127.0.0.1:${upstream.port}`;
const critical = process.env.PROXY_CRITICAL === '1';
const timing = critical ? [`--import=${path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'critical-path.js')}`] : [];
const args = (name) => [...timing, ...(process.env[name] ?? '').split(' ').filter(Boolean)];
const targets = {
  direct: { origin },
  bare: await forkBare(origin, timing),
  proxy: await spawnProxy(upstream.baseUrl, args('PROXY_NODE_ARGS'), process.env.PROXY_BIN),
};
// PROXY_BASE_BIN (another build's bin/bluegreen.js) and/or PROXY_BASE_NODE_ARGS: a second proxy measured beside.
if (process.env.PROXY_BASE_BIN || process.env.PROXY_BASE_NODE_ARGS) {
  targets.base = await spawnProxy(upstream.baseUrl, args('PROXY_BASE_NODE_ARGS'), process.env.PROXY_BASE_BIN);
}
const names = Object.keys(targets);
const clients = Object.fromEntries(names.map((name) => [name, createLoadClient(targets[name].origin, { connections: toolConnections() })]));
const messages = [{ role: 'user', content: 'How do I reset my password? I tried the link twice and it did not arrive.' }];
const body = { model: 'bench-blue', messages, max_tokens: 64, ...(mode === 'stream' && { stream: true, stream_options: { include_usage: true } }) };
const key = mode === 'stream' ? 'firstByteMs' : 'latencyMs';
const run = (name, s) => clients[name].run({ path: '/v1/chat/completions', body, rate, seconds: s });
for (const name of names) await run(name, 1);
/** Each timed process's critical-path samples (ms) over the rounds. */
const paths = Object.fromEntries(
  names.filter((n) => critical && n !== 'direct').map((n) => [n, { inbound: [], outbound: [], inboundTail: [], outboundTail: [] }]),
);
/** The samples since the last call (the warm-up's are dropped). */
async function collect(name) {
  if (!paths[name]) return undefined;
  const file = `/tmp/critical-${targets[name].pid}.json`;
  rmSync(file, { force: true });
  signalProbe(targets[name].pid, 'critical-path');
  while (!existsSync(file)) await sleep(20);
  return JSON.parse(readFileSync(file, 'utf8'));
}
for (const name of names) await collect(name);
/** @type {Record<string, { p50: number[]; p99: number[] }>} */
const added = Object.fromEntries(names.filter((n) => n !== 'direct').map((n) => [n, { p50: [], p99: [] }]));
for (let i = 0; i < rounds; i++) {
  const got = {};
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + i) % names.length];
    got[name] = await run(name, seconds);
    const samples = await collect(name);
    if (samples) for (const side of Object.keys(samples)) (paths[name][side] ??= []).push(...samples[side]);
  }
  for (const name of Object.keys(added)) {
    added[name].p50.push(got[name][key].p50 - got.direct[key].p50);
    added[name].p99.push(got[name][key].p99 - got.direct[key].p99);
  }
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return round(s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2, 3);
};
for (const [name, a] of Object.entries(added)) {
  process.stdout.write(`${name}: added ${key} p50 ${median(a.p50)} [${a.p50.map((x) => round(x, 2)).join(' ')}] p99 ${median(a.p99)}\n`);
}
const us = (ms) => round(ms * 1000, 1);
for (const [name, p] of Object.entries(paths)) {
  const line = (side) => {
    const s = p[side].sort((a, b) => a - b);
    return `${side} min ${us(s[0])} p10 ${us(percentile(s, 10))} p25 ${us(percentile(s, 25))} p50 ${us(percentile(s, 50))} us (${s.length})`;
  };
  process.stdout.write(`${name}: critical path ${line('inbound')}; ${line('outbound')}\n`);
  process.stdout.write(`${name}: after the write ${line('inboundTail')}; ${line('outboundTail')}\n`);
  // A scratch build's marks (critical-path.js), in the order they were first seen.
  for (const mark of Object.keys(p).slice(4)) process.stdout.write(`${name}:   mark ${line(mark)}\n`);
}
for (const client of Object.values(clients)) await client.close();
for (const name of names) await targets[name].close?.();
await upstream.close();
