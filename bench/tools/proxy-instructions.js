// Instructions a request costs the whole proxy process, per build: a load-independent A/B of the proxy's request
// path for the shared machine, where CPU a request (bench/tools/proxy-cpu.js) moves with the load by more than the
// changes measured (session 34: the same build 140 to 290 us a request from round to round at a load of 13). Each
// build's `bluegreen proxy` runs under valgrind's cachegrind (no cache simulation, node --single-threaded: V8
// compiles on the main thread, so no helper thread's work goes unseen or varies) and is sent FEW, then MANY
// requests one after another on one keep-alive connection (each answered before the next leaves: the same work
// whatever the machine's load, no batching); the difference over MANY - FEW leaves out start-up, loading, the first
// compilations and the stop. User-space instructions only: the system calls' kernel work is not counted (their
// number a request: bench/tools/proxy-syscalls.js). A run takes a few minutes per build and mode.
//   node bench/tools/proxy-instructions.js [MODE=plain|stream] [FEW=300] [MANY=1500] [BIN ...]   (default BIN: this checkout's bin/bluegreen.js)
import { Pool } from 'undici';
import { positionalArgs } from '../lib/args.js';
import { benchChatBody, spawnProxy } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';

const { mode, few, many, rest } = positionalArgs({ mode: ['plain', 'stream'], few: 300, many: 1500 });
const bins = rest.length > 0 ? rest : [new URL('../../bin/bluegreen.js', import.meta.url).pathname];
const VALGRIND = ['valgrind', '--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null'];
const payload = Buffer.from(JSON.stringify(benchChatBody(mode)));
const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-client', 'content-length': String(payload.length) };

const upstream = await startUpstream({ delayMs: 0 });

/** Instructions of one proxy process of `bin` that answered `count` requests, start to exit. */
async function instructions(bin, count) {
  const proxy = await spawnProxy(upstream.baseUrl, ['--single-threaded'], bin, { wrapper: VALGRIND });
  const pool = new Pool(proxy.origin, { connections: 1, keepAliveTimeout: 600_000 });
  for (let n = 0; n < count; n++) {
    const { statusCode, body } = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body: payload });
    await body.dump();
    if (statusCode !== 200) throw new Error(`${bin}: the proxy answered ${statusCode}`);
  }
  await pool.close();
  await proxy.close();
  const refs = /I\s+refs:\s+([\d,]+)/.exec(proxy.stderr());
  if (!refs) throw new Error(`${bin}: no cachegrind summary in the proxy's stderr: ${proxy.stderr().slice(-500)}`);
  return Number(refs[1].replaceAll(',', ''));
}

for (const bin of bins) {
  const low = await instructions(bin, few);
  const high = await instructions(bin, many);
  process.stdout.write(`${JSON.stringify({ mode, bin, few, many, instructionsPerRequest: Math.round((high - low) / (many - few)) })}\n`);
}
await upstream.close();
