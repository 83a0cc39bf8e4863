// What a proxy a rollout drives (proxy.admin on) pays for its results feed over TOTAL requests: the proxy of this
// checkout beside PROXY_BASE_BIN's build (another checkout's bin/bluegreen.js), both with the admin API and nobody
// reading their feed (its ring is full after 100,000 requests, as a driven proxy's is), and, with PROXY_FEED_PLAIN=1,
// this checkout's proxy without admin (PROXY_FEED_PLAIN=only: that one alone), and with PROXY_FEED_VARIANTS more
// proxies without admin, each with its own node flags or environment (see below). They take the same open-model load in chunks of CHUNK requests, in turn. After
// each chunk: the process's RSS (/proc) and the GCs it did in it (bench/lib/gc-count.js): mark-compacts (each marks
// the whole old generation, the feed's ring with it) with their pauses, the old generation's size after them, and the
// bytes scavenges promoted, and the process's memory (RSS, JS heap used, external and array buffers: a growing heap
// or RSS the allocator keeps; each heap space's committed size), also printed at the 100k, 300k, 600k and 1M-th requests. Counts, not times, are what a
// loaded machine leaves meaningful.
//   node bench/tools/proxy-feed.js [TOTAL=1000000] [RATE=2000] [CHUNK=50000] [MODE=plain|stream]
import { writeFileSync } from 'node:fs';
import { positionalArgs } from '../lib/args.js';
import { GC_COUNT_IMPORT, gcCounted } from '../lib/gc-counted.js';
import { createLoadClient } from '../lib/open-load.js';
import { procStats } from '../lib/proc.js';
import { benchChatBody, spawnProxy } from '../lib/proxies.js';
import { startUpstream } from '../lib/upstream.js';
import { percentile, round } from '../lib/util.js';

const { total, rate, chunk, mode } = positionalArgs({ total: 1_000_000, rate: 2000, chunk: 50_000, mode: ['plain', 'stream'] });
/** The feed's ring (DEFAULT_FEED_CAPACITY): figures from here on are of a full one. */
const RING = 100_000;
const counter = [GC_COUNT_IMPORT];
const upstream = await startUpstream({ delayMs: 0 });
/** @type {Record<string, Awaited<ReturnType<typeof spawnProxy>>>} */
const targets = {};
if (process.env.PROXY_FEED_PLAIN !== 'only') targets.admin = await spawnProxy(upstream.baseUrl, counter, undefined, { admin: true });
if (process.env.PROXY_BASE_BIN) targets.baseAdmin = await spawnProxy(upstream.baseUrl, counter, process.env.PROXY_BASE_BIN, { admin: true });
if (process.env.PROXY_FEED_PLAIN === '1' || process.env.PROXY_FEED_PLAIN === 'only') targets.noAdmin = await spawnProxy(upstream.baseUrl, counter);
// PROXY_FEED_VARIANTS="--max-semi-space-size=8;MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072;...": more proxies
// without admin, each named by its words: node flags, and NAME=VALUE words put in its environment (glibc's malloc knobs).
for (const variant of (process.env.PROXY_FEED_VARIANTS ?? '').split(';').filter(Boolean)) {
  const words = variant.split(' ').filter(Boolean);
  const env = Object.fromEntries(words.filter((word) => /^[A-Z_]+=/.test(word)).map((word) => word.split(/=(.*)/s).slice(0, 2)));
  const flags = words.filter((word) => !/^[A-Z_]+=/.test(word));
  targets[variant] = await spawnProxy(upstream.baseUrl, [...counter, ...flags], undefined, { env });
}
const names = Object.keys(targets);
// PROXY_FEED_MAX_IN_FLIGHT: requests beyond it are dropped (bench/lib/open-load.js), so a loaded machine's stalls
// do not queue thousands in the proxy as a quiet host's load never does.
const maxInFlight = process.env.PROXY_FEED_MAX_IN_FLIGHT ? Number(process.env.PROXY_FEED_MAX_IN_FLIGHT) : undefined;
const clients = Object.fromEntries(names.map((name) => [name, createLoadClient(targets[name].origin, { maxInFlight })]));
const body = benchChatBody(mode);
/** @typedef {{ rss: number, rssAnon: number | null, heapTotal: number, heapUsed: number, external: number, arrayBuffers: number, spaces?: Record<string, { size: number, used: number }> }} Memory */
/** @typedef {{ upTo: number, requests: number, gcs: { type: string, ms: number, oldAfter: number, promoted: number, youngSize: number }[], memory: Memory, rssMb: number | null, cpuMs: number | null, p99: number, errors: number, dropped: number, peakInFlight: number }} Chunk */
/** Where the memory figures are read (the first chunk ending at or past each). */
const CHECKPOINTS = [100_000, 300_000, 600_000, 1_000_000];
const state = Object.fromEntries(names.map((name) => [name, { requests: 0, chunks: /** @type {Chunk[]} */ ([]) }]));

/** One chunk of load on one proxy, its GCs counted by the proxy itself. */
async function runChunk(name) {
  const { pid } = targets[name];
  const s = state[name];
  const cpuBefore = procStats(pid)?.cpuMs ?? null;
  const { result, counts } = await gcCounted(pid, () =>
    clients[name].run({ path: '/v1/chat/completions', body, rate, seconds: Math.min(chunk, total - s.requests) / rate }),
  );
  const { requests, gcs, memory } = counts;
  const cpuAfter = procStats(pid)?.cpuMs ?? null;
  s.requests += result.completed;
  s.chunks.push({
    upTo: s.requests,
    requests,
    gcs,
    memory,
    rssMb: procStats(pid)?.rssMb ?? null,
    cpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
    p99: result.latencyMs.p99,
    errors: result.errors,
    dropped: result.dropped,
    peakInFlight: result.peakInFlight,
  });
}

const mb = (/** @type {number | null | undefined} */ bytes) => (typeof bytes === 'number' ? round(bytes / 2 ** 20, 1) : null);
/** The old generation after the last mark-compact up to chunk `i`: what the process held then (its garbage collected). */
const liveOldMb = (/** @type {Chunk[]} */ chunks, /** @type {number} */ i) =>
  mb(
    chunks
      .slice(0, i + 1)
      .flatMap((c) => c.gcs)
      .findLast((g) => g.type === 'MarkSweepCompact')?.oldAfter,
  );
/** The heap spaces' committed sizes (MB), the ones a heap total moves with: new, old, code, large objects. */
const SPACES = { new: 'new_space', old: 'old_space', code: 'code_space', lo: 'large_object_space' };
const spacesLine = (/** @type {Memory} */ m) =>
  Object.entries(SPACES)
    .map(([short, space]) => `${short} ${mb(m.spaces?.[space]?.size)}`)
    .join(' ');
/** One chunk's memory as the progress line shows it. */
function memoryLine(/** @type {Chunk[]} */ chunks) {
  const c = chunks.at(-1);
  if (!c) return '-';
  const m = c.memory;
  // The young generation's size after the chunk's last GC: V8 grows it with what survives, up to two 16 MB semi-spaces.
  const young = mb(c.gcs.at(-1)?.youngSize);
  return `RSS ${mb(m.rss)} MB, heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} (${spacesLine(m)}), young ${young}, old after MC ${liveOldMb(chunks, chunks.length - 1)}, external ${mb(m.external)}, array buffers ${mb(m.arrayBuffers)}; peak in flight ${c.peakInFlight}, p99 ${c.p99} ms`;
}

/** The proxies and the upstream stop with this process, however it ends (a chunk without answers, Ctrl-C). */
async function closeAll() {
  await Promise.all(Object.values(clients).map((c) => c.close()));
  await Promise.all(Object.values(targets).map((t) => t.close()));
  await upstream.close();
}
process.once('SIGINT', () => void closeAll().then(() => process.exit(130)));
process.once('SIGTERM', () => void closeAll().then(() => process.exit(143)));

try {
  for (let i = 0; names.some((name) => state[name].requests < total); i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + i) % names.length];
      const before = state[name].requests;
      if (before >= total) continue;
      await runChunk(name);
      if (state[name].requests === before) throw new Error(`${name} answered no request in a chunk`);
    }
    process.stderr.write(`${names.map((name) => `${name} ${state[name].requests} (${memoryLine(state[name].chunks)})`).join(', ')}\n`);
    // PROXY_FEED_CHUNKS=FILE: every chunk's figures so far, per proxy, for a reading of their own (kept if stopped).
    if (process.env.PROXY_FEED_CHUNKS) writeFileSync(process.env.PROXY_FEED_CHUNKS, JSON.stringify(state));
  }
} catch (error) {
  await closeAll();
  throw error;
}

const median = (list) => {
  const sorted = list.filter((v) => v !== null).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
};
for (const name of names) {
  const { chunks } = state[name];
  // The ring full: the chunks that began after its first RING requests.
  const full = chunks.filter((c, i) => i > 0 && chunks[i - 1].upTo >= RING);
  const requests = full.reduce((sum, c) => sum + c.requests, 0);
  const gcs = full.flatMap((c) => c.gcs);
  const compacts = gcs.filter((g) => g.type === 'MarkSweepCompact');
  const scavenges = gcs.filter((g) => g.type === 'Scavenge');
  const ms = compacts.map((g) => g.ms).sort((a, b) => a - b);
  const per100k = (n) => round((n * 100_000) / Math.max(1, requests), 1);
  const final = /** @type {Chunk} */ (chunks.at(-1));
  const last = chunks.filter((c) => c.upTo >= 0.8 * final.upTo);
  process.stdout.write(
    `${JSON.stringify({
      name,
      requests: final.upTo,
      measuredRequests: requests,
      memoryMbAt: Object.fromEntries(
        CHECKPOINTS.filter((n) => n <= final.upTo).map((n) => {
          const i = chunks.findIndex((c) => c.upTo >= n);
          const m = chunks[i].memory;
          const figures = {
            rss: mb(m.rss),
            rssAnon: mb(m.rssAnon),
            heapUsed: mb(m.heapUsed),
            heapTotal: mb(m.heapTotal),
            oldAfterMarkCompact: liveOldMb(chunks, i),
            ...Object.fromEntries(Object.entries(SPACES).map(([short, space]) => [`${short}Space`, mb(m.spaces?.[space]?.size)])),
          };
          return [n, { ...figures, external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) }];
        }),
      ),
      rssMb: {
        afterRing: chunks.find((c) => c.upTo >= RING)?.rssMb,
        lastFifthMedian: median(last.map((c) => c.rssMb)),
        last: final.rssMb,
        max: Math.max(...chunks.map((c) => c.rssMb ?? 0)),
      },
      markCompactsPer100k: per100k(compacts.length),
      markCompactMs: { p50: round(percentile(ms, 50), 1), max: round(ms.at(-1) ?? 0, 1), sumPer100k: per100k(compacts.reduce((sum, g) => sum + g.ms, 0)) },
      oldAfterMarkCompactMb: round(median(compacts.map((g) => g.oldAfter)) / 2 ** 20, 1),
      promotedBytesPerRequest: Math.round(scavenges.reduce((sum, g) => sum + g.promoted, 0) / Math.max(1, requests)),
      scavengesPer100k: per100k(scavenges.length),
      p99MedianMs: median(full.map((c) => c.p99)),
      errors: chunks.reduce((sum, c) => sum + c.errors, 0),
      dropped: chunks.reduce((sum, c) => sum + c.dropped, 0),
    })}\n`,
  );
}
await closeAll();
