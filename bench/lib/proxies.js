// The two proxies the proxy benchmark compares, each in its own process: the minimal undici pass-through
// (bench/lib/bare-proxy.js) and the built `bluegreen proxy` CLI on a bench plan (route on blue, no client keys).
// `nodeArgs` go to the proxy's node (e.g. --cpu-prof) so it can be profiled under the same load.
import { fork, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_KEY, BENCH_KEY_ENV, tempDir, writePlanFile } from './plan.js';
import { startUpstream } from './upstream.js';
import { envNumber } from './util.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function forkBare(upstreamOrigin, nodeArgs = []) {
  const child = fork(path.join(ROOT, 'bench/lib/bare-proxy.js'), [upstreamOrigin], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: nodeArgs });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (message) => {
      const { port } = /** @type {{ port: number }} */ (message);
      resolve({ origin: `http://127.0.0.1:${port}`, pid: child.pid, close: () => stop(child, 'SIGTERM') });
    });
  });
}

/**
 * The bench upstream, the pass-through and the proxy (and PROXY_BASE_BIN's build, another bin/bluegreen.js), each
 * process loading the bench/lib module `lib` with --import (a counter or profiler started and stopped by its probe
 * signal, bench/lib/probe-signal.js):
 * what bench/tools/proxy-work.js, proxy-alloc.js and proxy-profile.js compare. `delayMs`: the upstream's wait before
 * each answer (requests held in flight: bench/tools/proxy-held.js).
 */
export async function startMeasured(lib, { delayMs = 0 } = {}) {
  const args = [`--import=${path.join(ROOT, 'bench/lib', lib)}`];
  const upstream = await startUpstream({ delayMs });
  const targets = { bare: await forkBare(`http://127.0.0.1:${upstream.port}`, args), proxy: await spawnProxy(upstream.baseUrl, args) };
  if (process.env.PROXY_BASE_BIN) targets.base = await spawnProxy(upstream.baseUrl, args, process.env.PROXY_BASE_BIN);
  return { upstream, targets };
}

/**
 * The client's sockets to each path in the tools: PROXY_CONNECTIONS (unset: bench/lib/open-load.js's one for each
 * request in flight, up to 4,000). Where CPU a request is the figure, 256 (the benchmark's cap before session 22) keeps
 * a loaded machine's bursts of new connections, and their handshakes' CPU, out of it.
 */
export const toolConnections = () => envNumber('PROXY_CONNECTIONS', undefined);

/** The chat request those tools send: one short question, streamed (`mode` stream) or not. */
export function benchChatBody(mode) {
  const messages = [{ role: 'user', content: 'How do I reset my password? I tried the link twice and it did not arrive.' }];
  return { model: 'bench-blue', messages, max_tokens: 64, ...(mode === 'stream' && { stream: true, stream_options: { include_usage: true } }) };
}

/** The admin token of a proxy spawned with `admin` (a variable of the bench's own, 16+ characters). */
const ADMIN_TOKEN_ENV = 'BENCH_ADMIN_TOKEN';
const ADMIN_TOKEN = 'bench-admin-token-0123456789';

/**
 * The built proxy on a bench plan. `admin`: with proxy.admin (on a port of its own), as every proxy a rollout drives
 * has: it keeps its last 100,000 results for the rollout's reader (src/proxy/results-feed.ts), which nobody reads
 * here, so its ring is full after the first 100,000 requests, as a driven proxy's is once its reader lags or stops.
 * `env`: variables added to its environment (glibc's MALLOC_ARENA_MAX, say).
 * @param {string} upstreamBaseUrl
 * @param {string[]} [nodeArgs]
 * @param {string} [bin]
 * @param {{ admin?: boolean, env?: Record<string, string>, wrapper?: string[] }} [options]
 */
export function spawnProxy(upstreamBaseUrl, nodeArgs = [], bin = path.join(ROOT, 'bin/bluegreen.js'), { admin = false, env = {}, wrapper = [] } = {}) {
  const dir = tempDir();
  const file = writePlanFile(
    `name: bench-proxy
upstream: { base_url: ${upstreamBaseUrl}, api: openai, api_key_env: ${BENCH_KEY_ENV}, timeout: { connect: 2s, request: 30s } }
blue: { model: bench-blue, price: { input_per_mtok: 1, output_per_mtok: 2 } }
green: { model: bench-green, price: { input_per_mtok: 1, output_per_mtok: 2 } }
traffic: { rate: 1 }
stages: [{ duration: 1m, green_weight: 0.5 }]
proxy: { limits: { max_concurrency: 20000 }${admin ? `, admin: { listen: '127.0.0.1:0', token_env: ${ADMIN_TOKEN_ENV} }` : ''} }
`,
    dir,
  );
  // PROXY_STDOUT: a file for the proxy's stdout (V8's --trace-gc-nvp prints there), else dropped.
  const stdout = process.env.PROXY_STDOUT ? openSync(process.env.PROXY_STDOUT, 'a') : 'ignore';
  // `wrapper`: a command the proxy's node runs under (valgrind and its options: bench/tools/proxy-instructions.js).
  const command = [...wrapper, process.execPath, ...nodeArgs, bin, 'proxy', file, '--listen', '127.0.0.1:0', '--state-dir', dir];
  const child = spawn(command[0], command.slice(1), {
    env: { ...withoutNpm(process.env), ...env, [BENCH_KEY_ENV]: BENCH_KEY, ...(admin && { [ADMIN_TOKEN_ENV]: ADMIN_TOKEN }) },
    stdio: ['ignore', stdout, 'pipe'],
  });
  // The child has its own copy of the file's descriptor.
  if (typeof stdout === 'number') closeSync(stdout);
  return new Promise((resolve, reject) => {
    let err = '';
    child.once('exit', (code) => reject(new Error(`bluegreen proxy exited (${code}): ${err}`)));
    // Piped above (stdout's file descriptor, when set, only widens spawn's inferred type).
    /** @type {import('node:stream').Readable} */ (child.stderr).on('data', (chunk) => {
      err += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (match) {
        child.removeAllListeners('exit');
        // `stderr()`: all it wrote so far (a wrapper's summary at its exit, once close() resolved).
        resolve({ origin: match[1], pid: child.pid, close: () => stop(child, 'SIGTERM'), stderr: () => err });
      }
    });
  });
}

/**
 * The bench's environment without npm's variables: under `npm run bench` the proxy would otherwise take npm for
 * its launcher and watch the launch chain (src/cli/launcher.ts polls /proc), work the pass-through does not do.
 */
function withoutNpm(env) {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('npm_')));
}

/**
 * Signals the child and waits for it to exit (a --cpu-prof profile is written on the way out) and its pipes to
 * close (what it wrote last, a wrapper's summary, read).
 */
function stop(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('close', () => resolve(undefined));
    child.kill(signal);
  });
}
