// 3. Memory: RSS and heap after 100,000 and after 1,000,000 requests against an upstream that answers at once.
// Run with --expose-gc (bench/run.js does): each figure is taken after two full collections, so it is what
// the engine keeps, not garbage waiting for the collector.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createBenchEngine, openClients, totals } from './lib/engine.js';
import { loopbackPlanYaml, planFromYaml, tempDir } from './lib/plan.js';
import { startUpstream } from './lib/upstream.js';
import { QUICK, envNumber, log, round, sleep, writeResult } from './lib/util.js';

if (typeof globalThis.gc !== 'function') {
  process.stderr.write('bench/memory.js needs node --expose-gc\n');
  process.exit(2);
}

const RATE = envNumber('BENCH_MEMORY_RATE', 8000);
const FIRST = envNumber('BENCH_MEMORY_FIRST', QUICK ? 20_000 : 100_000);
const LAST = envNumber('BENCH_MEMORY_LAST', QUICK ? 200_000 : 1_000_000);
const EVERY = LAST / 10;
// As in the throughput benchmark; each arm's pool may open this many sockets, and RSS follows their number.
const MAX_IN_FLIGHT = envNumber('BENCH_MEMORY_MAX_IN_FLIGHT', 100);
// Bounded: the run stops at LAST requests or after this long, whichever comes first.
const LIMIT_MS = envNumber('BENCH_MEMORY_LIMIT_MS', Math.ceil((LAST / RATE) * 1000 * 1.5) + 30_000);

const MB = 2 ** 20;

/** Linux: resident memory split into anonymous (heap, malloc) and file-backed (code, libraries) pages. */
function residentSplit() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssAnonMb: kb('RssAnon') / 1024, rssFileMb: kb('RssFile') / 1024 };
  } catch {
    return {};
  }
}
/** Linux: open socket descriptors of this process (null elsewhere). */
function openSockets() {
  try {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return null;
  }
}

function reading() {
  if (!globalThis.gc) throw new Error('bench/memory.js needs node --expose-gc');
  globalThis.gc();
  globalThis.gc();
  return { ...process.memoryUsage(), ...residentSplit() };
}

/**
 * Traffic goes on while we measure, so RSS moves by a few MB from one moment to the next (malloc keeps
 * freed socket buffers for a while): each figure is the median of five readings 100 ms apart.
 */
async function measure(label, requests) {
  const readings = [];
  for (let i = 0; i < 5; i++) {
    if (i > 0) await sleep(100);
    readings.push(reading());
  }
  const median = (key) => readings.map((r) => r[key]).sort((x, y) => x - y)[2];
  const row = {
    label,
    requests,
    rssMb: round(median('rss') / MB, 1),
    heapUsedMb: round(median('heapUsed') / MB, 1),
    heapTotalMb: round(median('heapTotal') / MB, 1),
    externalMb: round(median('external') / MB, 1),
    arrayBuffersMb: round(median('arrayBuffers') / MB, 1),
    rssAnonMb: round(median('rssAnonMb'), 1),
    rssFileMb: round(median('rssFileMb'), 1),
    // Open sockets (upstream connections, plus the bench upstream's IPC channel): each connection holds
    // native buffers, so RSS follows the pools' high-water mark rather than the request count.
    sockets: openSockets(),
    rssRangeMb: [round(Math.min(...readings.map((r) => r.rss)) / MB, 1), round(Math.max(...readings.map((r) => r.rss)) / MB, 1)],
  };
  log(
    `memory ${label.padEnd(9)} ${String(requests).padStart(8)} requests: rss ${row.rssMb} MB (${row.rssRangeMb.join('-')}), heap used ${row.heapUsedMb} MB (total ${row.heapTotalMb}), external ${row.externalMb} MB, anon/file ${row.rssAnonMb}/${row.rssFileMb} MB, ${row.sockets} sockets`,
  );
  return row;
}

const upstream = await startUpstream({ delayMs: 0 });
// One long stage: the run is ended by the benchmark (an operator abort) once enough requests are done.
const plan = planFromYaml(loopbackPlanYaml({ baseUrl: upstream.baseUrl, rate: RATE, durationMs: 3_600_000, maxInFlight: MAX_IN_FLIGHT, name: 'bench-memory' }));
const { clients, close } = await openClients(plan);
const { engine } = await createBenchEngine({ plan, clients, stateDir: tempDir() });
const samples = [await measure('baseline', 0)];
log(`memory: ${RATE} req/s until ${LAST.toLocaleString('en')} requests (limit ${Math.round(LIMIT_MS / 1000)} s)`);

const started = Date.now();
const done = engine.run();
let next = Math.min(FIRST, EVERY);
let at100k;
let atLast;
let requests = 0;
while (Date.now() - started < LIMIT_MS) {
  await sleep(100);
  requests = totals(engine.snapshot()).requests;
  if (requests >= next) {
    const row = await measure(requests >= LAST ? 'last' : requests >= FIRST && !at100k ? 'first' : 'progress', requests);
    samples.push(row);
    if (!at100k && requests >= FIRST) at100k = row;
    if (requests >= LAST) {
      atLast = row;
      break;
    }
    next = at100k ? Math.ceil((requests + 1) / EVERY) * EVERY : FIRST;
  }
}
const elapsedMs = Date.now() - started;
engine.abort('bench');
await done;
const t = totals(engine.snapshot());
await close();
await upstream.close();

const growth = at100k && atLast ? (atLast.rssMb - at100k.rssMb) / at100k.rssMb : null;
const heapGrowth = at100k && atLast ? (atLast.heapUsedMb - at100k.heapUsedMb) / at100k.heapUsedMb : null;
const met = atLast !== undefined && atLast.rssMb < 200 && growth !== null && growth < 0.1;
writeResult({
  name: 'memory',
  rate: RATE,
  achievedRate: round((t.requests * 1000) / elapsedMs, 0),
  requests: t.requests,
  dropped: t.dropped,
  failures: t.failures,
  seconds: round(elapsedMs / 1000, 1),
  first: at100k ?? null,
  last: atLast ?? null,
  rssGrowthPercent: growth === null ? null : round(100 * growth, 1),
  heapGrowthPercent: heapGrowth === null ? null : round(100 * heapGrowth, 1),
  samples,
  target: { rssMb: 200, growthPercent: 10 },
  met,
  note: atLast ? undefined : `stopped at ${requests} requests: the time limit (${Math.round(LIMIT_MS / 1000)} s) came first`,
});
