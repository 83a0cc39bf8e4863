// What the proxy's results feed (src/proxy/results-feed.ts) keeps a result, and what that costs the GC, counted
// rather than timed. Results are made the way the proxy makes them (src/proxy/forward-result.ts, each reply's
// strings fresh from JSON.parse as an answer's are): plain and streamed answers (TTFT, usage, finish, served model,
// rate-limit headers), tool calls, failures, fallbacks, mirrors and client aborts (whose client digest the feed keys).
// - Heap: a ring of CAPACITY filled twice over (wrapped, as a proxy's is after its first CAPACITY requests); after two
//   forced GCs, the JS heap and the off-heap (ArrayBuffer) bytes it holds per entry, a full GC's time with the ring
//   full and empty, and the JSON a reader reads of it (its SHA-256: the same for two builds when their pages are byte
//   for byte the same).
// - GC over REQUESTS results, each beside ~20 KB of short-lived garbage (what the proxy allocates a request,
//   docs/benchmarks-history.md session 17), counted by V8's GCProfiler: scavenges, the bytes they promoted, mark-compacts
//   (each marks the whole old generation, the ring with it) and their time, the old generation after the last one.
// - Push and read times over a pool of results made beforehand (wall time: a rough scale on a shared machine).
// Each build (a checkout's folder, built) runs in a process of its own; name one twice to run it twice.
//   node bench/tools/feed-heap.js [CAPACITY=100000] [REQUESTS=1000000] [BUILD_DIR ...]   (default: this checkout)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { positionalArgs } from '../lib/args.js';
import { percentile } from '../lib/util.js';

const { capacity, requests, rest: dirs } = positionalArgs({ capacity: 100_000, requests: 1_000_000 });
const builds = dirs.length > 0 ? dirs : [new URL('../..', import.meta.url).pathname];
if (process.env.FEED_HEAP_BUILD === undefined) {
  for (const dir of builds) {
    const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), String(capacity), String(requests)], {
      env: { ...process.env, FEED_HEAP_BUILD: dir },
      stdio: 'inherit',
    });
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
  process.exit(0);
}
const gc = /** @type {() => void} */ (globalThis.gc);

/** One result of the mix, as the proxy makes it (1 in 100 a client abort, 5 failures, 30 streamed, 5 tool calls). */
function makeResult(forward, n) {
  const arm = n % 2 ? 'green' : 'blue';
  const headers = { 'x-ratelimit-remaining-requests': String(9000 - (n % 1000)), 'x-ratelimit-remaining-tokens': String(1_900_000 - n) };
  const exchange = { arm, model: `bench-${arm}`, stream: n % 10 < 3, latencyMs: 80 + ((n * 7919) % 2000) / 3, status: 200, headers };
  if (n % 100 === 0) return { ...forward.abandonedResult({ ...exchange, status: undefined, headers: undefined }), client: `c${n % 5000}` };
  if (n % 20 === 7) return forward.failedResult({ ...exchange, status: 503 }, { failure: 'server_error', status: 503, reason: 'upstream overloaded' });
  const tools = n % 20 === 3;
  // The reply's strings are new ones each time, as an upstream's answer parsed is.
  const reply = JSON.parse(
    JSON.stringify({
      content: 'Use the reset link in the email we sent.',
      finishReason: tools ? 'tool_calls' : 'stop',
      servedModel: `bench-${arm}-2024-08-06`,
      usage: { promptTokens: 20 + (n % 50), completionTokens: 40 + (n % 90), totalTokens: 60 + (n % 50) + (n % 90) },
      ...(tools && { toolCalls: 2 }),
    }),
  );
  return forward.succeededResult(exchange, reply, exchange.stream ? 30 + (n % 200) / 7 : undefined);
}

const kindOf = (n) => (n % 50 === 11 ? 'fallback' : n % 50 === 13 ? 'mirror' : 'routed');
const qualityOf = (n) => (n % 40 === 9 ? { ok: false, reason: 'empty answer' } : { ok: true });

/** A full GC's wall time, the median of five: with the ring full, less what it is without, is what the ring adds to each mark-compact. */
function fullGcMs() {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const started = process.hrtime.bigint();
    gc();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b)[2];
}

function heap() {
  gc();
  gc();
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
  return { heap: m.heapUsed, offHeap: m.arrayBuffers, old: spaces.old_space ?? 0 };
}

/** The GCs of `run()`, counted by V8's GCProfiler. */
function gcWork(run, count) {
  const profiler = new v8.GCProfiler();
  profiler.start();
  run();
  const { statistics } = /** @type {any} */ (profiler.stop());
  const old = (/** @type {any[]} */ spaces) => spaces.filter((s) => !s.spaceName.startsWith('new_')).reduce((sum, s) => sum + s.spaceUsedSize, 0);
  const gcs = statistics.map((/** @type {any} */ g) => ({
    type: g.gcType,
    ms: g.cost / 1000,
    promoted: Math.max(0, old(g.afterGC.heapSpaceStatistics) - old(g.beforeGC.heapSpaceStatistics)),
    oldAfter: old(g.afterGC.heapSpaceStatistics),
  }));
  const compacts = gcs.filter((g) => g.type === 'MarkSweepCompact');
  const scavenges = gcs.filter((g) => g.type === 'Scavenge');
  const ms = compacts.map((g) => g.ms).sort((a, b) => a - b);
  const round1 = (/** @type {number} */ x) => Math.round(x * 10) / 10;
  return {
    scavenges: scavenges.length,
    promotedBytesPerRequest: Math.round(scavenges.reduce((sum, g) => sum + g.promoted, 0) / count),
    markCompacts: compacts.length,
    markCompactMs: { p50: round1(percentile(ms, 50) ?? 0), max: round1(ms.at(-1) ?? 0), sum: round1(ms.reduce((a, b) => a + b, 0)) },
    oldAfterLastMarkCompactMb: round1((compacts.at(-1)?.oldAfter ?? 0) / 2 ** 20),
  };
}

/** What a request leaves for the young generation besides its result: its request and answer parsed, and more. */
const REQUEST_TEXT = JSON.stringify({
  model: 'bench-blue',
  messages: Array.from({ length: 8 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.repeat(20) })),
  max_tokens: 64,
});

{
  const dir = /** @type {string} */ (process.env.FEED_HEAP_BUILD);
  const dist = (/** @type {string} */ file) => pathToFileURL(resolve(dir, 'dist', file)).href;
  /** @type {any} */
  const feeds = await import(dist('proxy/results-feed.js'));
  /** @type {any} */
  const forward = await import(dist('proxy/forward-result.js'));
  /** @type {any} */
  const { clientDigest } = await import(dist('proxy/client-digest.js'));
  const options = {
    epoch: '00000000-0000-4000-8000-000000000000',
    controller: () => 'run-1',
    clientDigest: clientDigest('a-bench-admin-token-of-enough-length'),
  };
  // First, in a process holding nothing else: REQUESTS results into a feed, each among a request's garbage.
  let churn = new feeds.ResultsFeed(capacity, options);
  gc();
  let garbage = 0;
  const work = gcWork(() => {
    for (let i = 0; i < requests; i++) {
      garbage += JSON.parse(REQUEST_TEXT).messages.length;
      churn.push(makeResult(forward, i), kindOf(i), qualityOf(i), 1);
    }
  }, requests);
  // What the process holds then, the ring full: RSS, and the JS heap after a full GC.
  const held = heap();
  const rssMb = Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;
  churn = undefined;
  const before = heap();
  const feed = new feeds.ResultsFeed(capacity, options);
  const empty = heap();
  const gcEmptyMs = fullGcMs();
  let n = 0;
  const fill = () => {
    for (let i = 0; i < capacity; i++, n++) feed.push(makeResult(forward, n), kindOf(n), qualityOf(n), 1 + (n % 3));
  };
  fill();
  const full = heap();
  fill();
  const wrapped = heap();
  const gcFullMs = fullGcMs();
  // Read it all as a rollout does, a page at a time: the JSON the admin API serves.
  const hash = createHash('sha256');
  let after = feed.cursor - capacity;
  let bytes = 0;
  let entries = 0;
  for (;;) {
    const page = feed.read(after, undefined, feed.epoch);
    if (page.results.length === 0) break;
    const text = JSON.stringify({ ...page, epoch: feed.epoch, version: feeds.FEED_VERSION });
    hash.update(text);
    bytes += Buffer.byteLength(text);
    entries += page.results.length;
    after = page.next;
  }
  // The feed's own work: pushing results made beforehand, and reading them back as pages (without the JSON).
  const pool = Array.from({ length: 1000 }, (_, i) => makeResult(forward, i));
  const timed = new feeds.ResultsFeed(capacity, options);
  let started = process.hrtime.bigint();
  for (let i = 0; i < capacity; i++) timed.push(pool[i % pool.length], kindOf(i), qualityOf(i), 1);
  const pushNs = Number(process.hrtime.bigint() - started) / capacity;
  started = process.hrtime.bigint();
  for (let at = 0; at < capacity; at = timed.read(at).next);
  const readNs = Number(process.hrtime.bigint() - started) / capacity;
  const per = (/** @type {number} */ b) => Math.round(b / capacity);
  const row = {
    build: dir,
    capacity,
    ringEmpty: { heapBytes: empty.heap - before.heap, offHeapBytes: empty.offHeap - before.offHeap },
    perEntryFull: { heap: per(full.heap - empty.heap), offHeap: per(full.offHeap - empty.offHeap), oldSpace: per(full.old - empty.old) },
    perEntryWrapped: { heap: per(wrapped.heap - before.heap), offHeap: per(wrapped.offHeap - before.offHeap) },
    // Wall time on a shared machine: compare builds run side by side only.
    fullGcMs: { ringEmpty: Math.round(gcEmptyMs * 10) / 10, ringFull: Math.round(gcFullMs * 10) / 10 },
    heldMb: Math.round(((wrapped.heap - before.heap + wrapped.offHeap - before.offHeap) / 2 ** 20) * 10) / 10,
    jsonBytesPerEntry: Math.round(bytes / Math.max(1, entries)),
    entriesRead: entries,
    pagesSha256: hash.digest('hex').slice(0, 16),
    gcOver: { requests, ...work, rssMbAfter: rssMb, heapUsedMbAfter: Math.round((held.heap / 2 ** 20) * 10) / 10, parsed: garbage > 0 },
    pushNsApprox: Math.round(pushNs),
    readNsApprox: Math.round(readNs),
  };
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
