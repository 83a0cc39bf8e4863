// What runs in the bare pass-through and the proxy (and PROXY_BASE_BIN's build) between the upstream answer's
// headers and the client's first bytes on the socket (bench/lib/first-write.js counts it in each process), one
// streamed request at a time so nothing else is in flight: async resources by type a request (counted, the load
// does not move them) and the time between, in-process (the lowest round's median: the load inflates it).
//   node bench/tools/first-write.js [REQUESTS=500] [ROUNDS=3] [MODE=stream|plain]
// BENCH_FIRST_EVENT_APART_MS=2 has the upstream send a stream's first event with its headers and the rest 2 ms
// later: the first chunk is then read and written on its own. FIRST_WRITE_BYTES=1 adds the bytes allocated between the two (the median answer's, exact; the times then hold
// the heap readings' cost).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Pool } from 'undici';
import { benchChatBody, startMeasured } from '../lib/proxies.js';
import { positionalArgs } from '../lib/args.js';
import { signalProbe } from '../lib/probe-signal.js';

const { requests, rounds, mode } = positionalArgs({ requests: 500, rounds: 3, mode: ['stream', 'plain'] });
const { upstream, targets } = await startMeasured('first-write.js');
const body = JSON.stringify(benchChatBody(mode));
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
const pools = Object.fromEntries(Object.entries(targets).map(([name, t]) => [name, new Pool(t.origin, { connections: 1 })]));

async function send(pool, n) {
  for (let i = 0; i < n; i++) {
    const answer = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body });
    await answer.body.text();
  }
}

for (const pool of Object.values(pools)) await send(pool, 200);
/** @type {Map<string, { p50: number, types: Record<string, number> }>} */
const best = new Map();
for (let r = 0; r < rounds; r++) {
  for (const [name, target] of Object.entries(targets)) {
    const file = `/tmp/first-write-${target.pid}.json`;
    rmSync(file, { force: true });
    signalProbe(target.pid, 'first-write');
    await settle();
    await send(pools[name], requests);
    signalProbe(target.pid, 'first-write');
    while (!existsSync(file)) await settle();
    const figures = JSON.parse(readFileSync(file, 'utf8'));
    const types = Object.fromEntries(Object.entries(figures.types).map(([type, n]) => [type, Math.round(n * 100) / 100]));
    process.stdout.write(
      `round ${r + 1} ${name}: ${figures.answers} answers, us from headers to the first write p50 ${figures.us.p50.toFixed(1)} (min ${figures.us.min.toFixed(1)}, p90 ${figures.us.p90.toFixed(1)})${figures.bytes === undefined ? '' : `, ${figures.bytes} bytes allocated`}; ${JSON.stringify(types)}\n`,
    );
    if (!best.has(name) || figures.us.p50 < (best.get(name)?.p50 ?? Infinity)) best.set(name, { p50: figures.us.p50, types });
  }
}
for (const [name, { p50, types }] of best) process.stdout.write(`lowest p50 ${name}: ${p50.toFixed(1)} us; ${JSON.stringify(types)}\n`);
await Promise.all(Object.values(pools).map((pool) => pool.close()));
await Promise.all(Object.values(targets).map((t) => t.close()));
await upstream.close();
