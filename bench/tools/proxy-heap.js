// What a mark-compact marks: each process's heap used after two full GCs (bench/lib/live-objects.js), idle, after
// REQUESTS plain requests at most 32 at once: the bare pass-through, the proxy (and PROXY_BASE_BIN's build). Counted,
// not timed: the figure does not move with the machine's load. Beside it the second full GC's CPU time (it finds no
// garbage: marking and compacting what is live), timed, so read the lowest of the rounds.
//   node bench/tools/proxy-heap.js [REQUESTS=1000] [ROUNDS=2]
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Pool } from 'undici';
import { positionalArgs } from '../lib/args.js';
import { signalProbe } from '../lib/probe-signal.js';
import { benchChatBody, startMeasured } from '../lib/proxies.js';
import { sleep } from '../lib/util.js';

const { requests, rounds } = positionalArgs({ requests: 1000, rounds: 2 });
const { upstream, targets } = await startMeasured('live-objects.js');
const body = JSON.stringify(benchChatBody('plain'));

/** The process's heap used after two full GCs, in MB, and the second one's CPU. */
async function heapAfterGc(pid) {
  const out = `/tmp/live-${pid}.json`;
  rmSync(out, { force: true });
  signalProbe(pid, 'live-objects');
  while (!existsSync(out)) await sleep(50);
  const { heapUsed, fullGcCpuMs } = JSON.parse(readFileSync(out, 'utf8'));
  return `${Math.round(heapUsed / 1e4) / 100} MB (a full GC of it: ${fullGcCpuMs} ms of CPU)`;
}

/** `count` requests, at most 32 at once. */
async function send(origin, count) {
  const pool = new Pool(origin, { connections: 32 });
  const one = () =>
    pool.request({ path: '/v1/chat/completions', method: 'POST', body, headers: { 'content-type': 'application/json' } }).then((r) => r.body.text());
  let left = count;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (left-- > 0) await one();
    }),
  );
  await pool.close();
}

for (let round = 1; round <= rounds; round++) {
  for (const [name, target] of Object.entries(targets)) {
    await send(target.origin, requests);
    console.log(`round ${round} ${name}: heap used after two full GCs ${await heapAfterGc(/** @type {number} */ (target.pid))}`);
  }
}
for (const target of Object.values(targets)) await target.close();
await upstream.close();
