// What the upstream client costs on top of undici: closed loop, 100 requests in flight, against the bench
// upstream. "raw undici" is pool.request + body.text() + JSON.parse; "client.send" is bluegreen's real client
// (request building, timers, retries, classification, parsing, result). Used to find and check the fix in
// docs/benchmarks-history.md ("What the profiles showed, and what changed").
//   node bench/tools/client-overhead.js [ONLY=both|raw|client] [SECONDS=4]
import { Pool } from 'undici';
import { openClients } from '../lib/engine.js';
import { loopbackPlanYaml, planFromYaml } from '../lib/plan.js';
import { startUpstream } from '../lib/upstream.js';
import { createRandom } from '../../dist/core/random.js';
import { createTrafficMix } from '../../dist/traffic/index.js';
import { SignalWatch } from '../../dist/upstream/signal-watch.js';
import { positionalArgs } from '../lib/args.js';

const { only, seconds } = positionalArgs({ only: ['both', 'raw', 'client'], seconds: 4 });
const CONCURRENCY = 100;
const up = await startUpstream();
const plan = planFromYaml(loopbackPlanYaml({ baseUrl: up.baseUrl, rate: 1, durationMs: 1000, maxInFlight: CONCURRENCY }));
const { clients, close } = await openClients(plan);
const mix = createTrafficMix(plan.traffic, createRandom(1));
await mix.ready();
const body = JSON.stringify({
  model: 'bench-blue',
  messages: [{ role: 'user', content: 'How do I reset my password? I never got the email.' }],
  max_tokens: 256,
  stream: false,
});
const headers = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'bluegreen', authorization: 'Bearer x' };
const pool = new Pool(`http://127.0.0.1:${up.port}`, { connections: CONCURRENCY });
const shutdown = new AbortController();
// One watch on the signal, as the engine's dispatcher makes (src/upstream/signal-watch.ts).
const cancel = new SignalWatch(shutdown.signal);

async function run(name, one) {
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await one();
        n++;
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${name.padEnd(12)} ${String(Math.round((n / elapsed) * 1000)).padStart(6)} req/s ${((cpu.user + cpu.system) / n).toFixed(1).padStart(6)} µs CPU/req\n`,
  );
}

const raw = async () => {
  const response = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body });
  JSON.parse(await response.body.text());
};
const client = async () => {
  const result = await clients.blue.send(mix.next(), cancel);
  if (!result.ok) throw new Error(result.errorMessage);
};
for (let i = 0; i < 3; i++) {
  if (only !== 'client') await run('raw undici', raw);
  if (only !== 'raw') await run('client.send', client);
}
await pool.close();
await close();
await up.close();
