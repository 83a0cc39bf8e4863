// Instructions a request costs the whole proxy process, per build: a load-independent A/B of the proxy's request
// path for the shared machine, where CPU a request (bench/tools/proxy-cpu.js) moves with the load by more than the
// changes measured (session 34: the same build 140 to 290 us a request from round to round at a load of 13). Each
// build's `bluegreen proxy` runs under valgrind's cachegrind (no cache simulation, node --single-threaded: V8
// compiles on the main thread, so no helper thread's work goes unseen or varies) and is sent FEW, then MANY
// requests one after another on one keep-alive connection (each answered before the next leaves: the same work
// whatever the machine's load, no batching); the difference over MANY - FEW leaves out start-up, loading, the first
// compilations and the stop. User-space instructions only: the system calls' kernel work is not counted (their
// number a request: bench/tools/proxy-syscalls.js). A run takes a few minutes per build and mode.
// IN_FLIGHT=N (session 35): N requests kept in flight on N connections (closed loop) instead of one: the process under
// valgrind is the bottleneck, so many requests arrive per turn of its loop, as in the saturated sustained search
// (per-turn work shared, per-request work and the GC of a backlog counted). BIN `bare`: the bare pass-through
// (bench/lib/bare-proxy.js) under the same, the floor the sustained target compares with.
//   IN_FLIGHT=1 node bench/tools/proxy-instructions.js [MODE=plain|stream] [FEW=300] [MANY=1500] [BIN|bare ...]   (default BIN: this checkout's bin/bluegreen.js)
import { spawn } from 'node:child_process';
import { Pool } from 'undici';
import { positionalArgs } from '../lib/args.js';
import { benchChatBody, spawnProxy } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
import { envNumber } from '../lib/util.js';

const { mode, few, many, rest } = positionalArgs({ mode: ['plain', 'stream'], few: 300, many: 1500 });
const bins = rest.length > 0 ? rest : [new URL('../../bin/bluegreen.js', import.meta.url).pathname];
// CACHEGRIND_DIR: each run's cachegrind file kept there (by function: cg_annotate FILE), else dropped.
const outDir = process.env.CACHEGRIND_DIR;
const valgrind = (/** @type {string} */ name) => [
  'valgrind',
  '--tool=cachegrind',
  '--cache-sim=no',
  `--cachegrind-out-file=${outDir ? `${outDir}/${name}.%p.cg` : '/dev/null'}`,
];
const payload = Buffer.from(JSON.stringify(benchChatBody(mode)));
const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-client', 'content-length': String(payload.length) };

const inFlight = envNumber('IN_FLIGHT', 1);
const BARE = new URL('../lib/bare-proxy.js', import.meta.url).pathname;

const upstream = await startUpstream({ delayMs: 0 });

/** The bare pass-through under `wrapper`: it says its port on stdout, and exits on SIGTERM (the summary then). */
function spawnBare(wrapper) {
  const command = [...wrapper, process.execPath, '--single-threaded', BARE, `http://127.0.0.1:${upstream.port}`];
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  /** @type {import('node:stream').Readable} */ (child.stderr).on('data', (chunk) => (err += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare pass-through exited (${code}): ${err}`)));
    /** @type {import('node:stream').Readable} */ (child.stdout).once('data', (chunk) => {
      const { port } = JSON.parse(String(chunk));
      child.removeAllListeners('exit');
      const close = () => new Promise((done) => (child.once('close', () => done(undefined)), child.kill('SIGTERM')));
      resolve({ origin: `http://127.0.0.1:${port}`, close, stderr: () => err });
    });
  });
}

/** Instructions of one proxy process of `bin` that answered `count` requests, start to exit. */
async function instructions(bin, count) {
  const wrapper = valgrind(`${bin === 'bare' ? 'bare' : 'proxy'}-${count}`);
  const proxy = bin === 'bare' ? await spawnBare(wrapper) : await spawnProxy(upstream.baseUrl, ['--single-threaded'], bin, { wrapper });
  const pool = new Pool(proxy.origin, { connections: inFlight, keepAliveTimeout: 600_000 });
  let sent = 0;
  // Each of `inFlight` loops sends its next request when its last is answered.
  const loop = async () => {
    while (sent < count) {
      sent++;
      const { statusCode, body } = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body: payload });
      await body.dump();
      if (statusCode !== 200) throw new Error(`${bin}: the proxy answered ${statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  await pool.close();
  await proxy.close();
  const refs = /I\s+refs:\s+([\d,]+)/.exec(proxy.stderr());
  if (!refs) throw new Error(`${bin}: no cachegrind summary in the proxy's stderr: ${proxy.stderr().slice(-500)}`);
  return Number(refs[1].replaceAll(',', ''));
}

for (const bin of bins) {
  const low = await instructions(bin, few);
  const high = await instructions(bin, many);
  process.stdout.write(`${JSON.stringify({ mode, bin, few, many, inFlight, instructionsPerRequest: Math.round((high - low) / (many - few)) })}\n`);
}
await upstream.close();
