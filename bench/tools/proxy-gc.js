// A/B of the young generation's work a request: the proxy (PROXY_NODE_ARGS, PROXY_BIN) beside a second proxy
// (PROXY_BASE_BIN's build and/or PROXY_BASE_NODE_ARGS, say --max-semi-space-size=64), and the pass-through, under
// the same open-model load, in rounds whose order rotates. Each process counts its own (bench/lib/gc-count.js):
// bytes allocated, scavenges and mark-compacts per 10,000 requests, bytes each scavenge copied or promoted (what a
// scavenge's time grows with), their wall time (meaningful only on a quiet machine), and the p50/p99 of the round.
// A round that did not get its load (under 99% of the rate achieved, or over 1% of its sends over 10 ms late: the
// sustained rule's bounds, bench/lib/sustained-rule.js) says so: its figures are of a lighter, burstier load.
//   node bench/tools/proxy-gc.js [RATE=1000] [SECONDS=10] [MODE=plain|stream] [ROUNDS=3]   (PROXY_CONNECTIONS: the client's sockets, bench/lib/proxies.js)
// A summary line per path at the end: the medians over the rounds.
import { readFileSync } from 'node:fs';
import { GC_COUNT_IMPORT, gcCounted } from '../lib/gc-counted.js';
import { createLoadClient } from '../lib/open-load.js';
import { benchChatBody, forkBare, spawnProxy, toolConnections } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
import { percentile, round } from '../lib/util.js';
import { positionalArgs } from '../lib/args.js';
import { SUSTAINED } from '../lib/sustained-rule.js';

const { rate, seconds, mode, rounds } = positionalArgs({ rate: 1000, seconds: 10, mode: ['plain', 'stream'], rounds: 3 });
const args = (name) => [GC_COUNT_IMPORT, ...(process.env[name] ?? '').split(' ').filter(Boolean)];
const upstream = await startUpstream({ delayMs: 0 });
const targets = {};
if (process.env.PROXY_GC_BARE !== '0') targets.bare = await forkBare(`http://127.0.0.1:${upstream.port}`, args('BARE_NODE_ARGS'));
targets.proxy = await spawnProxy(upstream.baseUrl, args('PROXY_NODE_ARGS'), process.env.PROXY_BIN);
if (process.env.PROXY_BASE_BIN || process.env.PROXY_BASE_NODE_ARGS) {
  targets.base = await spawnProxy(upstream.baseUrl, args('PROXY_BASE_NODE_ARGS'), process.env.PROXY_BASE_BIN);
}
// PROXY_GC_VARIANTS="--max-semi-space-size=64;--single-threaded-gc": more proxies of this build, one a set of node
// flags, named by their flags.
for (const flags of (process.env.PROXY_GC_VARIANTS ?? '').split(';').filter(Boolean)) {
  targets[flags] = await spawnProxy(upstream.baseUrl, [GC_COUNT_IMPORT, ...flags.split(' ').filter(Boolean)], process.env.PROXY_BIN);
}
const names = Object.keys(targets);
const clients = Object.fromEntries(names.map((name) => [name, createLoadClient(targets[name].origin, { connections: toolConnections() })]));
const body = benchChatBody(mode);
const key = mode === 'stream' ? 'firstByteMs' : 'latencyMs';
// Warm-up: the young generation grows to its working size in the first seconds.
for (const name of names) await clients[name].run({ path: '/v1/chat/completions', body, rate, seconds: 3 });

const perRound = [];
for (let i = 0; i < rounds; i++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + i) % names.length];
    const pid = targets[name].pid;
    const { result, counts } = await gcCounted(pid, () => clients[name].run({ path: '/v1/chat/completions', body, rate, seconds }));
    const { requests, allocated, gcs } = counts;
    const scavenges = gcs.filter((g) => g.type === 'Scavenge');
    const ms = scavenges.map((g) => g.ms).sort((a, b) => a - b);
    const per10k = (n) => round((n * 10_000) / requests, 1);
    const sum = (list, f) => list.reduce((a, g) => a + f(g), 0);
    const row = {
      round: i + 1,
      name,
      load: round(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]), 1),
      requests,
      kbPerRequest: round(allocated / requests / 1024, 2),
      scavengesPer10k: per10k(scavenges.length),
      otherGcsPer10k: per10k(gcs.length - scavenges.length),
      youngMB: round((scavenges.at(-1)?.youngSize ?? 0) / 2 ** 20, 1),
      copiedKBPerScavenge: round(sum(scavenges, (g) => g.survived + g.promoted) / Math.max(1, scavenges.length) / 1024, 0),
      copiedBytesPerRequest: Math.round(sum(scavenges, (g) => g.survived + g.promoted) / requests),
      scavengeMs: { p50: round(percentile(ms, 50), 2), max: round(ms.at(-1) ?? 0, 2), sumPer10k: per10k(sum(scavenges, (g) => g.ms)) },
      // The pauses that can push a request past a 1 ms target: each pause's time beyond 1 ms, summed (at 1,000
      // req/s, 1 ms of it holds about one request past the target).
      beyond1msPer10k: per10k(sum(gcs, (g) => Math.max(0, g.ms - 1))),
      otherGcMsPer10k: per10k(
        sum(
          gcs.filter((g) => g.type !== 'Scavenge'),
          (g) => g.ms,
        ),
      ),
      p50: result[key].p50,
      p99: result[key].p99,
      dropped: result.dropped,
      achievedRate: result.achievedRate,
      late: result.late,
      overloaded: result.achievedRate < SUSTAINED.achievedShare * rate || result.late > SUSTAINED.lateShare * result.offered,
    };
    perRound.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
    if (row.overloaded) {
      process.stdout.write(
        `  round ${row.round} ${name} overloaded: ${result.achievedRate} of ${rate} req/s achieved, ${result.late} of ${result.offered} sends over 10 ms late (up to ${result.maxLateMs} ms)\n`,
      );
    }
  }
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
for (const name of names) {
  const rows = perRound.filter((r) => r.name === name);
  const pick = (f) => median(rows.map(f));
  process.stdout.write(
    `${JSON.stringify({
      name,
      medians: {
        kbPerRequest: pick((r) => r.kbPerRequest),
        scavengesPer10k: pick((r) => r.scavengesPer10k),
        youngMB: pick((r) => r.youngMB),
        copiedBytesPerRequest: pick((r) => r.copiedBytesPerRequest),
        scavengeP50Ms: pick((r) => r.scavengeMs.p50),
        scavengeMsPer10k: pick((r) => r.scavengeMs.sumPer10k),
        beyond1msPer10k: pick((r) => r.beyond1msPer10k),
        p50: pick((r) => r.p50),
        p99: pick((r) => r.p99),
      },
      overloadedRounds: rows.filter((r) => r.overloaded).length,
    })}\n`,
  );
}
await Promise.all(Object.values(clients).map((c) => c.close()));
await Promise.all(Object.values(targets).map((t) => t.close()));
await upstream.close();
