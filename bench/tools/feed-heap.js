// What the proxy's results feed (src/proxy/results-feed.ts) keeps a result, counted rather than timed: a ring of
// CAPACITY is filled twice over (wrapped, as a proxy's is after its first CAPACITY requests) with results made the
// way the proxy makes them (src/proxy/forward-result.ts, each reply's strings fresh from JSON.parse as an answer's
// are): plain and streamed answers (TTFT, usage, finish, served model, rate-limit headers), tool calls, failures,
// fallbacks, mirrors and client aborts (whose client digest the feed keys). After two forced GCs: the JS heap and the
// off-heap (ArrayBuffer) bytes it holds per entry, and the JSON a reader reads of it, for each build given.
//   node --expose-gc bench/tools/feed-heap.js [CAPACITY=100000] [BUILD_DIR ...]   (default: this checkout)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { positionalArgs } from '../lib/args.js';

if (typeof globalThis.gc !== 'function') {
  process.stderr.write('bench/tools/feed-heap.js needs node --expose-gc\n');
  process.exit(2);
}
const gc = /** @type {() => void} */ (globalThis.gc);
const { capacity, rest: dirs } = positionalArgs({ capacity: 100_000 });
const builds = dirs.length > 0 ? dirs : [new URL('../..', import.meta.url).pathname];

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

function heap() {
  gc();
  gc();
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
  return { heap: m.heapUsed, offHeap: m.arrayBuffers, old: spaces.old_space ?? 0 };
}

for (const dir of builds) {
  const dist = (/** @type {string} */ file) => pathToFileURL(resolve(dir, 'dist', file)).href;
  /** @type {any} */
  const feeds = await import(dist('proxy/results-feed.js'));
  /** @type {any} */
  const forward = await import(dist('proxy/forward-result.js'));
  /** @type {any} */
  const { clientDigest } = await import(dist('proxy/client-digest.js'));
  const before = heap();
  const feed = new feeds.ResultsFeed(capacity, { controller: () => 'run-1', clientDigest: clientDigest('a-bench-admin-token-of-enough-length') });
  const empty = heap();
  let n = 0;
  const fill = () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < capacity; i++, n++) feed.push(makeResult(forward, n), kindOf(n), qualityOf(n), 1 + (n % 3));
    return Number(process.hrtime.bigint() - started) / capacity;
  };
  fill();
  const full = heap();
  const pushNs = fill();
  const wrapped = heap();
  // Read it all as a rollout does, a page at a time: the JSON the admin API serves.
  let after = feed.cursor - capacity;
  let bytes = 0;
  let entries = 0;
  const started = process.hrtime.bigint();
  for (;;) {
    const page = feed.read(after, undefined, feed.epoch);
    if (page.results.length === 0) break;
    bytes += Buffer.byteLength(JSON.stringify({ ...page, epoch: feed.epoch, version: feeds.FEED_VERSION }));
    entries += page.results.length;
    after = page.next;
  }
  const readNs = Number(process.hrtime.bigint() - started) / Math.max(1, entries);
  const per = (/** @type {number} */ b) => Math.round(b / capacity);
  const row = {
    build: dir,
    capacity,
    ringEmpty: { heapBytes: empty.heap - before.heap, offHeapBytes: empty.offHeap - before.offHeap },
    perEntryFull: { heap: per(full.heap - empty.heap), offHeap: per(full.offHeap - empty.offHeap), oldSpace: per(full.old - empty.old) },
    perEntryWrapped: { heap: per(wrapped.heap - before.heap), offHeap: per(wrapped.offHeap - before.offHeap) },
    heldMb: Math.round(((wrapped.heap - before.heap + wrapped.offHeap - before.offHeap) / 2 ** 20) * 10) / 10,
    jsonBytesPerEntry: Math.round(bytes / Math.max(1, entries)),
    entriesRead: entries,
    // Wall time on a shared machine: a rough scale only.
    pushNsApprox: Math.round(pushNs),
    readNsApprox: Math.round(readNs),
  };
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
