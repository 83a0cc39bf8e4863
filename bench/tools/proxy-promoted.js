// What a new plain proxy's scavenges promote a request under stalls, for one or more builds (each a bin/bluegreen.js)
// in turn: LOAD_RATE req/s (default 1000), at most LOAD_CAP in flight (default 32, the rest dropped), the proxy
// stopped for 1 s every 3 s (SIGSTOP/SIGCONT, as a loaded host's stalls; STALL=0 leaves it running), promoted bytes
// summed from V8's --trace-gc-nvp lines. Prints the bytes a request after the first 6 s (start-up's promotion left
// out) and per 15 s, a * where a mark-compact ran: a proxy whose finished requests get promoted switches there.
// node bench/tools/proxy-promoted.js SECONDS BIN... (e.g. a copy of bin/ and dist/ from before a change, and bin/bluegreen.js)
import { readFileSync, rmSync } from 'node:fs';
import { Pool } from 'undici';
import { benchChatBody, spawnProxy } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
import { sleep } from '../lib/util.js';

const [secondsArg, ...bins] = process.argv.slice(2);
const seconds = Number(secondsArg);
if (!(seconds > 6) || bins.length === 0) throw new Error('usage: node bench/tools/proxy-promoted.js SECONDS BIN...');
const rate = Number(process.env.LOAD_RATE ?? 1000);
const cap = Number(process.env.LOAD_CAP ?? 32);
const stall = process.env.STALL !== '0';
const upstream = await startUpstream({ delayMs: 0 });
const body = JSON.stringify(benchChatBody('plain'));

/** Bytes promoted by the scavenges so far, and the mark-compacts so far, from the proxy's trace. */
function traced(file) {
  let promoted = 0;
  let markCompacts = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.includes('gc=s ')) promoted += Number(/ promoted=(\d+)/.exec(line)?.[1] ?? 0);
    else if (line.includes('gc=mc ')) markCompacts++;
  }
  return { promoted, markCompacts };
}

for (const [index, bin] of bins.entries()) {
  const file = `/tmp/proxy-promoted-${process.pid}-${index}.txt`;
  rmSync(file, { force: true });
  process.env.PROXY_STDOUT = file;
  const proxy = await spawnProxy(upstream.baseUrl, ['--trace-gc-nvp'], bin);
  const pid = /** @type {number} */ (proxy.pid);
  const pool = new Pool(proxy.origin, { connections: 256, keepAliveTimeout: 60_000 });
  let inFlight = 0;
  let done = 0;
  let dropped = 0;
  const headers = { 'content-type': 'application/json' };
  const ticker = setInterval(() => {
    if (inFlight >= cap) return void dropped++;
    inFlight++;
    pool
      .request({ path: '/v1/chat/completions', method: 'POST', body, headers })
      .then((answer) => answer.body.text())
      .then(
        () => done++,
        () => {},
      )
      .finally(() => inFlight--);
  }, 1000 / rate);
  let base = { done: 0, promoted: 0 };
  let previous;
  const series = [];
  for (let second = 0; second < seconds; second += 3) {
    if (second === 6) base = { done, promoted: traced(file).promoted };
    if (second % 15 === 0) {
      const now = { ...traced(file), done };
      if (previous)
        series.push(
          `${Math.round((now.promoted - previous.promoted) / Math.max(1, done - previous.done))}${now.markCompacts > previous.markCompacts ? '*' : ''}`,
        );
      previous = now;
    }
    await sleep(2000);
    if (stall) process.kill(pid, 'SIGSTOP');
    await sleep(1000);
    if (stall) process.kill(pid, 'SIGCONT');
  }
  clearInterval(ticker);
  while (inFlight > 0) await sleep(50);
  await pool.close();
  await proxy.close();
  const total = traced(file);
  rmSync(file);
  const perRequest = Math.round((total.promoted - base.promoted) / (done - base.done));
  console.log(
    `${bin}: ${done} requests (${dropped} dropped), ${total.markCompacts} mark-compacts, promoted ${perRequest} B a request after 6 s; per 15 s: ${series.join(' ')}`,
  );
}
await upstream.close();
