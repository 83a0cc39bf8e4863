// What a new plain proxy keeps of its finished requests while their keep-alive connections idle (the bench's client
// keeps up to 256): N requests at once on N connections, then, with every answer in, a full GC in the proxy and its
// live IncomingMessage / ServerResponse count (bench/lib/live-objects.js), again after the connections close.
// Then LOAD_SECONDS (default 10) at LOAD_RATE req/s (default 800), at most 32 in flight: a probe each second, the live
// count beside the client's requests in flight at the signal (more live than that would be finished requests kept).
// node bench/tools/proxy-retained.js [CONNECTIONS=200] [ROUNDS=3]
// LIVE_OBJECTS_SNAPSHOT=1 also writes a heap snapshot of the idle proxy (read it with bench/lib/retainers.js).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { benchChatBody, spawnProxy } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
import { sleep } from '../lib/util.js';
import { signalProbe } from '../lib/probe-signal.js';

const [connections = 200, rounds = 3] = process.argv.slice(2).map(Number);
const LIB = path.join(path.dirname(fileURLToPath(import.meta.url)), '../lib/live-objects.js');
const upstream = await startUpstream({ delayMs: 0 });
const proxy = await spawnProxy(upstream.baseUrl, [`--import=${LIB}`]);
const out = `/tmp/live-${proxy.pid}.json`;

/** Signals the proxy and waits for its counts. */
async function live() {
  rmSync(out, { force: true });
  signalProbe(/** @type {number} */ (proxy.pid), 'live-objects');
  while (!existsSync(out)) await sleep(50);
  return JSON.parse(readFileSync(out, 'utf8'));
}

const body = JSON.stringify(benchChatBody('plain'));
const pool = new Pool(proxy.origin, { connections, keepAliveTimeout: 600_000, pipelining: 1 });
const send = () =>
  pool.request({ path: '/v1/chat/completions', method: 'POST', body, headers: { 'content-type': 'application/json' } }).then((r) => r.body.text());
console.log(`before any request: ${JSON.stringify(await live())}`);
for (let round = 1; round <= rounds; round++) {
  await Promise.all(Array.from({ length: connections }, send));
  console.log(`round ${round}, ${connections} connections idle: ${JSON.stringify(await live())}`);
}
const loadSeconds = Number(process.env.LOAD_SECONDS ?? 10);
const loadRate = Number(process.env.LOAD_RATE ?? 800);
let inFlight = 0;
let dropped = 0;
const ticker = setInterval(() => {
  if (inFlight >= 32) return void dropped++;
  inFlight++;
  send().finally(() => inFlight--);
}, 1000 / loadRate);
for (let second = 1; second <= loadSeconds; second++) {
  await sleep(1000);
  const atSignal = inFlight;
  console.log(`under load, ${atSignal} in flight at the signal: ${JSON.stringify(await live())}`);
}
clearInterval(ticker);
console.log(`load: ${dropped} dropped past 32 in flight`);
while (inFlight > 0) await sleep(50);
await pool.close();
await sleep(500);
console.log(`connections closed: ${JSON.stringify(await live())}`);
if (process.env.LIVE_OBJECTS_SNAPSHOT === '1') console.log(`snapshots: ${out}.N.heapsnapshot`);
await proxy.close();
await upstream.close();
