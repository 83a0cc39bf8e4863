// 6. Proxy overhead: the same open-model client against an upstream that answers at once, three ways in one
// run: direct to the upstream, through a minimal undici pass-through (bench/lib/bare-proxy.js, the floor for
// Node), and through `bluegreen proxy` (the built CLI, in its own process). Non-streamed and streamed, at
// 1,000 and 5,000 req/s; then the highest sustained rate of the pass-through and the proxy; then the proxy's
// RSS over a long run. Knobs: BENCH_PROXY_SECONDS, BENCH_PROXY_RSS_FIRST, BENCH_PROXY_RSS_TOTAL,
// BENCH_PROXY_RSS_RATE (docs/benchmarks.md says what the defaults scale down).
import { createLoadClient } from './lib/open-load.js';
import { procStats } from './lib/proc.js';
import { forkBare, spawnProxy } from './lib/proxies.js';
import { startUpstream } from './lib/upstream.js';
import { QUICK, envNumber, log, round, writeResult } from './lib/util.js';

const SECONDS = envNumber('BENCH_PROXY_SECONDS', QUICK ? 1.5 : 3);
const RATES = [1000, 5000];
const RSS_FIRST = envNumber('BENCH_PROXY_RSS_FIRST', QUICK ? 20_000 : 100_000);
const RSS_TOTAL = envNumber('BENCH_PROXY_RSS_TOTAL', QUICK ? 60_000 : 300_000);
// Up to 30,000: the pass-through reached the old last step (15,000), so its ceiling was not measured.
const SEARCH_STEPS = [2000, 3000, 4000, 5000, 6000, 8000, 10_000, 12_000, 15_000, 18_000, 22_000, 26_000, 30_000];

const upstream = await startUpstream({ delayMs: 0 });
const upstreamOrigin = `http://127.0.0.1:${upstream.port}`;

const bare = await forkBare(upstreamOrigin);
const proxy = await spawnProxy(upstream.baseUrl);
const targets = { direct: { origin: upstreamOrigin }, bare, proxy };
const clients = Object.fromEntries(Object.entries(targets).map(([name, t]) => [name, createLoadClient(t.origin)]));
const messages = [{ role: 'user', content: 'How do I reset my password? I tried the link twice and it did not arrive.' }];
const bodies = {
  plain: { model: 'bench-blue', messages, max_tokens: 64 },
  stream: { model: 'bench-blue', messages, max_tokens: 64, stream: true, stream_options: { include_usage: true } },
};
const PATH = '/v1/chat/completions';

async function measure(name, mode, rate, seconds = SECONDS) {
  const pid = targets[name].pid;
  const before = pid ? procStats(pid) : null;
  const result = await clients[name].run({ path: PATH, body: bodies[mode], rate, seconds });
  const after = pid ? procStats(pid) : null;
  if (before && after && result.completed > 0) result.cpuUsPerRequest = round(((after.cpuMs - before.cpuMs) * 1000) / result.completed, 1);
  return result;
}

// Warm-up: JIT, pools and sockets on every path.
for (const name of Object.keys(targets)) for (const mode of ['plain', 'stream']) await measure(name, mode, 1000, 1);

const fixed = [];
for (const rate of RATES) {
  for (const mode of ['plain', 'stream']) {
    const row = { rate, mode };
    for (const name of Object.keys(targets)) row[name] = await measure(name, mode, rate);
    const added = (via, key) => ({
      p50: round(row[via][key].p50 - row.direct[key].p50, 3),
      p99: round(row[via][key].p99 - row.direct[key].p99, 3),
    });
    row.added = { bare: added('bare', 'latencyMs'), proxy: added('proxy', 'latencyMs') };
    if (mode === 'stream') row.addedFirstByte = { bare: added('bare', 'firstByteMs'), proxy: added('proxy', 'firstByteMs') };
    fixed.push(row);
    log(
      `${rate} req/s ${mode}: direct p50 ${row.direct.latencyMs.p50} / p99 ${row.direct.latencyMs.p99} ms; added by bare ${row.added.bare.p50} / ${row.added.bare.p99}, by proxy ${row.added.proxy.p50} / ${row.added.proxy.p99} ms (proxy achieved ${row.proxy.achievedRate}, errors ${row.proxy.errors}, dropped ${row.proxy.dropped})`,
    );
  }
}

/** Sustained: every request answered without error, at 99% of the offered rate, p99 under 50 ms. */
async function highestSustained(name) {
  let best = 0;
  const steps = [];
  for (const rate of SEARCH_STEPS) {
    const r = await measure(name, 'plain', rate, Math.max(2, SECONDS));
    const ok = r.errors === 0 && r.dropped === 0 && r.completed === r.offered && r.achievedRate >= 0.99 * rate && r.latencyMs.p99 < 50;
    steps.push({ rate, achieved: r.achievedRate, p99: r.latencyMs.p99, ok });
    log(`${name} at ${rate} req/s: achieved ${r.achievedRate}, p99 ${r.latencyMs.p99} ms ${ok ? 'sustained' : 'NOT sustained'}`);
    if (!ok) break;
    best = rate;
  }
  return { rate: best, steps };
}
const sustained = { bare: await highestSustained('bare'), proxy: await highestSustained('proxy') };

// RSS over a long run through the proxy, at a rate it sustains.
const rssRate = envNumber('BENCH_PROXY_RSS_RATE', Math.max(1000, Math.round((0.8 * (sustained.proxy.rate || 2000)) / 500) * 500));
await measure('proxy', 'plain', rssRate, RSS_FIRST / rssRate);
const rssFirst = procStats(proxy.pid);
await measure('proxy', 'plain', rssRate, (RSS_TOTAL - RSS_FIRST) / rssRate);
const rssLast = procStats(proxy.pid);
const rss = {
  rate: rssRate,
  first: { requests: RSS_FIRST + 2000 * 2 + 1000, rssMb: rssFirst?.rssMb },
  last: { requests: RSS_TOTAL + 2000 * 2 + 1000, rssMb: rssLast?.rssMb },
  growthPercent: rssFirst && rssLast ? round((100 * (rssLast.rssMb - rssFirst.rssMb)) / rssFirst.rssMb, 1) : null,
};
log(`proxy RSS ${rss.first.rssMb} MB after ~${RSS_FIRST} requests, ${rss.last.rssMb} MB after ~${RSS_TOTAL} (${rss.growthPercent}%) at ${rssRate} req/s`);

for (const client of Object.values(clients)) await client.close();
await bare.close();
await proxy.close();
await upstream.close();

const at1000 = fixed.find((r) => r.rate === 1000 && r.mode === 'plain');
const stream1000 = fixed.find((r) => r.rate === 1000 && r.mode === 'stream');
const targetsMet = {
  addedP50At1000: at1000.added.proxy.p50 <= 0.3,
  addedP99At1000: at1000.added.proxy.p99 <= 2,
  addedTtftP99At1000: stream1000.addedFirstByte.proxy.p99 <= 1,
  sustainedRatio: sustained.bare.rate > 0 ? sustained.proxy.rate / sustained.bare.rate >= 0.8 : null,
  rssFlat: rss.growthPercent !== null ? rss.growthPercent < 10 : null,
};
writeResult({
  name: 'proxy',
  seconds: SECONDS,
  fixed,
  sustained,
  sustainedRatio: sustained.bare.rate > 0 ? round(sustained.proxy.rate / sustained.bare.rate, 2) : null,
  rss,
  targetsMet,
  met: Object.values(targetsMet).every((v) => v !== false),
});
