// A/B measure for the proxy's hot path: CPU per request of `bluegreen proxy` and of the bare pass-through
// under the same fixed open-model load, non-streamed and streamed, run back to back. Latency percentiles on a
// shared machine are noise; CPU per request of the proxy's own process is not (much).
//   PROXY_CONNECTIONS=256 node bench/tools/proxy-cpu.js [RATE=2000] [SECONDS=10] [ROUNDS=2]   (the client's sockets: bench/lib/proxies.js)
//   PROXY_BASE_BIN=/path/to/main/bin/bluegreen.js ... adds that build's proxy as `base`, in the same run
//   (PROXY_BIN runs another build as `proxy`); the paths' order rotates from round to round
//   PROXY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node bench/tools/proxy-cpu.js   (then
//   node bench/lib/profile-summary.js /tmp/prof/<file>.cpuprofile)
import { createLoadClient } from '../lib/open-load.js';
import { procStats } from '../lib/proc.js';
import { forkBare, spawnProxy, toolConnections } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
import { round } from '../lib/util.js';
import { positionalArgs } from '../lib/args.js';

const { rate, seconds, rounds } = positionalArgs({ rate: 2000, seconds: 10, rounds: 2 });
const nodeArgs = (process.env.PROXY_NODE_ARGS ?? '').split(' ').filter(Boolean);
const only = (process.env.PROXY_ONLY ?? 'bare,proxy').split(',');

const upstream = await startUpstream({ delayMs: 0 });
const targets = {};
if (only.includes('bare')) targets.bare = await forkBare(`http://127.0.0.1:${upstream.port}`, (process.env.BARE_NODE_ARGS ?? '').split(' ').filter(Boolean));
if (only.includes('proxy')) targets.proxy = await spawnProxy(upstream.baseUrl, nodeArgs, process.env.PROXY_BIN);
// PROXY_BASE_BIN: another build's bin/bluegreen.js (say, a checkout of main) measured beside this one.
if (process.env.PROXY_BASE_BIN) {
  const baseArgs = process.env.PROXY_BASE_NODE_ARGS === undefined ? nodeArgs : process.env.PROXY_BASE_NODE_ARGS.split(' ').filter(Boolean);
  targets.base = await spawnProxy(upstream.baseUrl, baseArgs, process.env.PROXY_BASE_BIN);
}
const clients = Object.fromEntries(Object.entries(targets).map(([name, t]) => [name, createLoadClient(t.origin, { connections: toolConnections() })]));
const messages = [{ role: 'user', content: 'How do I reset my password? I tried the link twice and it did not arrive.' }];
const bodies = {
  plain: { model: 'bench-blue', messages, max_tokens: 64 },
  stream: { model: 'bench-blue', messages, max_tokens: 64, stream: true, stream_options: { include_usage: true } },
};

async function measure(name, mode, r, s) {
  const before = procStats(targets[name].pid);
  const result = await clients[name].run({ path: '/v1/chat/completions', body: bodies[mode], rate: r, seconds: s });
  const after = procStats(targets[name].pid);
  if (!before || !after) throw new Error(`no /proc figures for the ${name} process`);
  const perRequest = (ms) => round((ms * 1000) / result.completed, 1);
  return {
    ...result,
    cpuUsPerRequest: perRequest(after.cpuMs - before.cpuMs),
    // Of which the kernel's (system calls: the reads and writes of both sockets).
    systemUsPerRequest: perRequest(after.systemMs - before.systemMs),
  };
}

const MODES = (process.env.PROXY_MODES ?? 'plain,stream').split(',');
for (const name of Object.keys(targets)) for (const mode of MODES) await measure(name, mode, rate, 2);
const rows = [];
for (let i = 0; i < rounds; i++) {
  for (const mode of MODES) {
    const names = Object.keys(targets);
    // Rotated, so no path is always the one that follows another's run (or the machine's quiet start).
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + i) % names.length];
      const r = await measure(name, mode, rate, seconds);
      rows.push({
        round: i + 1,
        mode,
        name,
        cpuUs: r.cpuUsPerRequest,
        sysUs: r.systemUsPerRequest,
        achieved: r.achievedRate,
        errors: r.errors,
        dropped: r.dropped,
        p50: r.latencyMs.p50,
        p99: r.latencyMs.p99,
      });
      process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
    }
  }
}
for (const client of Object.values(clients)) await client.close();
await Promise.all(Object.values(targets).map((t) => t.close()));
await upstream.close();
const summary = {};
const system = {};
for (const row of rows) (summary[`${row.name} ${row.mode}`] ??= []).push(row.cpuUs);
for (const row of rows) (system[`${row.name} ${row.mode}`] ??= []).push(row.sysUs);
// On a shared machine other work only ever adds CPU: the lowest of the rounds is the steadiest figure.
const lowest = Object.fromEntries(Object.entries(summary).map(([key, values]) => [key, Math.min(...values)]));
process.stdout.write(`${JSON.stringify({ rate, seconds, rounds, cpuUsPerRequest: summary, systemUsPerRequest: system, lowest })}\n`);
