// What a request in flight keeps alive in each process, the bare pass-through, the proxy (and PROXY_BASE_BIN's build):
// HELD plain requests at once on HELD connections, held at the bench upstream (it answers after DELAY_MS), and each
// process's heap used after two full GCs (bench/lib/live-objects.js) while they wait, less the same after they are
// answered, a request. Every scavenge copies what the requests in flight keep (and promotes it after two): in the
// saturated sustained search thousands are in flight, so this is what a scavenge's work grows with a request (session 21
// measured it by hand; the proxy's upstream pool holds 256 connections, so past 256 held the rest wait in undici's queue,
// as a backlog does). Counted, not timed: the machine's load does not move it.
//   node bench/tools/proxy-held.js [HELD=400] [DELAY_MS=4000] [ROUNDS=2]
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Pool } from 'undici';
import { positionalArgs } from '../lib/args.js';
import { signalProbe } from '../lib/probe-signal.js';
import { benchChatBody, startMeasured } from '../lib/proxies.js';
import { sleep } from '../lib/util.js';

const { held, delayMs, rounds } = positionalArgs({ held: 400, delayMs: 4000, rounds: 2 });
const { upstream, targets } = await startMeasured('live-objects.js', { delayMs });
const body = JSON.stringify(benchChatBody('plain'));
const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-client' };

/** The process's heap used after two full GCs, in bytes. */
async function heapAfterGc(pid) {
  const out = `/tmp/live-${pid}.json`;
  rmSync(out, { force: true });
  signalProbe(pid, 'live-objects');
  while (!existsSync(out)) await sleep(50);
  return JSON.parse(readFileSync(out, 'utf8')).heapUsed;
}

/** Heap used with `held` requests waiting at the upstream, then after their answers, in bytes. */
async function heldAndAfter(target) {
  const pool = new Pool(target.origin, { connections: held });
  const answers = Array.from({ length: held }, () => pool.request({ path: '/v1/chat/completions', method: 'POST', body, headers }).then((r) => r.body.text()));
  // Well inside the upstream's delay: every request has reached the process and is waiting for its answer.
  await sleep(Math.min(delayMs / 2, 2000));
  const during = await heapAfterGc(/** @type {number} */ (target.pid));
  await Promise.all(answers);
  const after = await heapAfterGc(/** @type {number} */ (target.pid));
  await pool.close();
  return { during, after };
}

for (let round = 1; round <= rounds; round++) {
  for (const [name, target] of Object.entries(targets)) {
    const { during, after } = await heldAndAfter(target);
    console.log(`round ${round} ${name}: ${held} held: ${Math.round((during - after) / held)} B of heap a request in flight (${during} - ${after})`);
  }
}
for (const target of Object.values(targets)) await target.close();
await upstream.close();
