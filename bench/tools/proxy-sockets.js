// What the client's socket count does to CPU a request: the pass-through and the proxy each under the same open-model
// load, each in two processes driven by two clients, one with 256 sockets (every session before 22) and one with a socket for each request in
// flight (bench/proxy.js since session 22), in rounds whose order rotates; CPU of each path's process a request.
//   node bench/tools/proxy-sockets.js [RATE=3000] [SECONDS=4] [ROUNDS=6] [MODE=plain|stream]
import { createLoadClient } from '../lib/open-load.js';
import { procStats } from '../lib/proc.js';
import { benchChatBody, forkBare, spawnProxy } from '../lib/proxies.js';
import { median } from '../lib/rounds.js';
import { startUpstream } from '../lib/upstream.js';
import { positionalArgs } from '../lib/args.js';
import { round } from '../lib/util.js';

const { rate, seconds, rounds, mode } = positionalArgs({ rate: 3000, seconds: 4, rounds: 6, mode: ['plain', 'stream'] });
const upstream = await startUpstream({ delayMs: 0 });
const SOCKETS = { 256: 256, 'one a request': undefined };
// A process for each path and socket count: the proxy closes connections past max_connections (4,096), so two clients
// on one proxy would churn the second's sockets.
/** @type {{ name: string; sockets: string; target: { origin: string; pid: number | undefined; close(): Promise<void> }; client: ReturnType<typeof createLoadClient>; pid: number | undefined; cpu: number[] }[]} */
const runs = [];
for (const name of ['bare', 'proxy'])
  for (const [sockets, connections] of Object.entries(SOCKETS)) {
    const t = name === 'bare' ? await forkBare(`http://127.0.0.1:${upstream.port}`) : await spawnProxy(upstream.baseUrl);
    runs.push({ name, sockets, target: t, client: createLoadClient(t.origin, { connections }), pid: t.pid, cpu: [] });
  }
const body = benchChatBody(mode);
const once = async (run, s) => {
  const before = procStats(run.pid);
  const r = await run.client.run({ path: '/v1/chat/completions', body, rate, seconds: s });
  const after = procStats(run.pid);
  if (!before || !after) throw new Error(`no /proc figures for the ${run.name} process`);
  return { cpuUs: round(((after.cpuMs - before.cpuMs) * 1000) / r.completed, 1), sockets: r.connectionsOpen, opened: r.connectionsOpened };
};
for (const run of runs) await once(run, 2);
for (let i = 0; i < rounds; i++)
  for (let k = 0; k < runs.length; k++) {
    const run = runs[(k + i) % runs.length];
    const got = await once(run, seconds);
    run.cpu.push(got.cpuUs);
    process.stderr.write(`round ${i + 1} ${run.name}, ${run.sockets} sockets (${got.sockets} open, ${got.opened} opened): ${got.cpuUs} us a request\n`);
  }
for (const run of runs) await run.client.close();
await Promise.all(runs.map((run) => run.target.close()));
await upstream.close();
process.stdout.write(`${mode}, ${rate} req/s, ${rounds} rounds of ${seconds} s: us of CPU a request, lowest / median\n`);
for (const run of runs) process.stdout.write(`  ${run.name}, ${run.sockets} sockets: ${Math.min(...run.cpu)} / ${median(run.cpu)}\n`);
