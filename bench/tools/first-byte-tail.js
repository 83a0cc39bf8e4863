// What a streamed first byte's p99 is made of: the bare pass-through and the proxy (and PROXY_BASE_BIN's build), in
// interleaved rounds of the same open-model load, each process noting its GC pauses on the wall clock
// (bench/lib/gc-times.js). Per path, over all rounds: the slowest 1% of first bytes (the pooled p99 and beyond), and
// how many of them were in flight during one of the process's pauses, beside the share of all requests that were
// (a pause holds the requests in flight and those arriving in it). If most of the slowest 1% met a pause and few
// requests did, the GC is the p99; if they met none, it is elsewhere (the machine, the client, the path itself).
// Wall clock: meaningful only on a quiet machine (the pauses' counts and the overlaps' shares less so under load).
//   node bench/tools/first-byte-tail.js [RATE=1000] [SECONDS=2] [ROUNDS=8]   (PROXY_MODE=plain for whole answers)
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { positionalArgs } from '../lib/args.js';
import { createLoadClient } from '../lib/open-load.js';
import { signalProbe } from '../lib/probe-signal.js';
import { forkBare, spawnProxy } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
import { round, sleep } from '../lib/util.js';

const { rate, seconds, rounds } = positionalArgs({ rate: 1000, seconds: 2, rounds: 8 });
const mode = process.env.PROXY_MODE ?? 'stream';
const upstream = await startUpstream({ delayMs: 0 });
const gcTimes = [`--import=${path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'gc-times.js')}`];
/** @type {Record<string, { origin: string; pid: number; close?: () => Promise<unknown> }>} */
const targets = {
  bare: await forkBare(`http://127.0.0.1:${upstream.port}`, gcTimes),
  proxy: await spawnProxy(upstream.baseUrl, gcTimes, process.env.PROXY_BIN),
};
if (process.env.PROXY_BASE_BIN) targets.base = await spawnProxy(upstream.baseUrl, gcTimes, process.env.PROXY_BASE_BIN);
const names = Object.keys(targets);
const clients = Object.fromEntries(names.map((name) => [name, createLoadClient(targets[name].origin)]));
const messages = [{ role: 'user', content: 'How do I reset my password? I tried the link twice and it did not arrive.' }];
const body = { model: 'bench-blue', messages, max_tokens: 64, ...(mode === 'stream' && { stream: true, stream_options: { include_usage: true } }) };
const key = mode === 'stream' ? 'firstByteMs' : 'latencyMs';

/** The process's GC pauses since the last call: [start (epoch ms), length (ms), kind]. */
async function pauses(/** @type {string} */ name) {
  const file = `/tmp/gc-times-${targets[name].pid}.json`;
  rmSync(file, { force: true });
  signalProbe(targets[name].pid, 'gc-times');
  while (!existsSync(file)) await sleep(20);
  return /** @type {[number, number, string][]} */ (JSON.parse(readFileSync(file, 'utf8')));
}

const run = (/** @type {string} */ name, /** @type {number} */ s) =>
  clients[name].run({ path: '/v1/chat/completions', body, rate, seconds: s, keepSends: true });
for (const name of names) await run(name, 1);
for (const name of names) await pauses(name);

/** Per path: every request's [send (epoch ms), first byte (ms)], and the pauses met in its rounds. */
/** @type {Record<string, { sends: [number, number][]; pauses: [number, number, string][] }>} */
const seen = Object.fromEntries(names.map((name) => [name, { sends: [], pauses: [] }]));
for (let i = 0; i < rounds; i++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(k + i) % names.length];
    const result = await run(name, seconds);
    const sends = /** @type {NonNullable<typeof result.sends>} */ (result.sends);
    const { atMs } = sends;
    const times = sends[key];
    for (let r = 0; r < atMs.length; r++) seen[name].sends.push([atMs[r], times[r]]);
    seen[name].pauses.push(...(await pauses(name)));
  }
}

/** The kind of the first pause a request sent at `at` and answered `ms` later overlapped, if any. */
function metPause(/** @type {[number, number, string][]} */ list, /** @type {number} */ at, /** @type {number} */ ms) {
  for (const [start, length, kind] of list) if (start < at + ms && start + length > at) return kind;
  return undefined;
}

for (const name of names) {
  const { sends, pauses: list } = seen[name];
  const sorted = [...sends].sort((a, b) => b[1] - a[1]);
  const slowest = sorted.slice(0, Math.max(1, Math.floor(sends.length / 100)));
  /** @type {Record<string, number>} */
  const slowMet = {};
  for (const [at, ms] of slowest) {
    const kind = metPause(list, at, ms) ?? 'none';
    slowMet[kind] = (slowMet[kind] ?? 0) + 1;
  }
  const allMet = sends.filter(([at, ms]) => metPause(list, at, ms) !== undefined).length;
  const byKind = (/** @type {string} */ kind) => list.filter((p) => p[2] === kind);
  const lengths = list.map((p) => p[1]).sort((a, b) => a - b);
  process.stdout.write(
    `${name}: ${sends.length} requests, ${key} p99 ${round(slowest.at(-1)?.[1] ?? 0, 3)} ms (slowest ${round(slowest[0]?.[1] ?? 0, 3)}); ` +
      `pauses ${byKind('scavenge').length} scavenges, ${byKind('mark-compact').length} mark-compacts, ${byKind('other').length} other ` +
      `(length p50 ${round(lengths[lengths.length >> 1] ?? 0, 3)} / max ${round(lengths.at(-1) ?? 0, 3)} ms); ` +
      `the slowest 1% (${slowest.length}) in flight during a pause: ${JSON.stringify(slowMet)}; all requests: ${round((100 * allMet) / Math.max(1, sends.length), 2)}%\n`,
  );
}
for (const client of Object.values(clients)) await client.close();
for (const name of names) await targets[name].close?.();
await upstream.close();
