// 6. Proxy overhead: the same open-model client against an upstream that answers at once, three ways in one
// run: direct to the upstream, through a minimal undici pass-through (bench/lib/bare-proxy.js, the floor for
// Node), and through `bluegreen proxy` (the built CLI, in its own process). Non-streamed and streamed, at
// 1,000 and 5,000 req/s, in interleaved short rounds (the targets read all rounds' requests pooled; medians of
// rounds and their range beside); then the highest sustained rate of the pass-through and the proxy (majority of
// tries per step, then bisected: bench/lib/sustained-rule.js), read from BENCH_PROXY_SEARCHES whole searches (the
// ratio judged is the proxy's median over the pass-through's, session 24: one search's figure moved by a third
// from run to run, as one unlucky step capped it); then the RSS of two
// proxies started for it, up to their 1,000,000th request: a plain one, and one with the admin API a rollout drives
// it through (its results feed keeps the last 100,000 results, session 18), in the time bench/run.js leaves it
// (session 22). Knobs: BENCH_PROXY_SECONDS, BENCH_PROXY_ROUNDS, BENCH_PROXY_TRIES, BENCH_PROXY_RSS_FIRST,
// BENCH_PROXY_RSS_TOTAL, BENCH_PROXY_RSS_RATE, BENCH_PROXY_RSS_SECONDS, BENCH_PROXY_BISECTIONS, BENCH_PROXY_CONNECTIONS,
// BENCH_PROXY_SEARCHES, BENCH_PROXY_RESTART_BELOW, BENCH_PROXY_RAMP_SCALE, BENCH_PROXY_STALLS (docs/benchmarks.md says
// what the defaults scale down). A round or try whose p99 is over SLOW_P99_MS is logged with where its time went: the
// GC pauses and longest event-loop hold of the path's process, the upstream's and the client's (bench/lib/stalls.js).
import { GC_COUNT_IMPORT, gcCounted } from './lib/gc-counted.js';
import { limitMs } from './lib/limits.js';
import { createLoadClient } from './lib/open-load.js';
import { NOISY_OTHER_PERCENT, procStats, watchMachine } from './lib/proc.js';
import { forkBare, spawnProxy } from './lib/proxies.js';
import { median, pooledPercentile, spread } from './lib/rounds.js';
import { nextRssRuns, rssPace } from './lib/rss-budget.js';
import { SUSTAINED, afterVerdict, nextRate, restartStep, searchesFigure, startSearch, stepVerdict, tryMisses } from './lib/sustained-rule.js';
import { tcpLine, tcpSum, watchTcp } from './lib/tcp-counters.js';
import { STALL_TIMES_IMPORT, ownStalls, stallFigures, stallText, takeStalls } from './lib/stalls.js';
import { startUpstream } from './lib/upstream.js';
import { QUICK, envNumber, log, mbText, round, writeResult } from './lib/util.js';

// When bench/run.js stops this process (or, run alone, when it would): the RSS step ends in time for the result.
const DEADLINE = envNumber('BENCH_DEADLINE', Date.now() + limitMs('proxy', QUICK));
const SECONDS = envNumber('BENCH_PROXY_SECONDS', QUICK ? 1 : 2);
// Eight rounds (session 21; five before): the verdicts' pooled p99 at 1,000 req/s rests on the 160 slowest of 16,000
// requests, and the fixed rates take about 200 s of the benchmark's ~12 minutes (bench/run.js stops it at 18).
const ROUNDS = envNumber('BENCH_PROXY_ROUNDS', QUICK ? 3 : 8);
const TRIES = envNumber('BENCH_PROXY_TRIES', 3);
const RATES = [1000, 5000];
// RSS is read after every proxy run, against the requests the proxy has answered since it started: the issue
// asks for its growth from the 100,000th request to the 1,000,000th.
const RSS_FIRST = envNumber('BENCH_PROXY_RSS_FIRST', QUICK ? 20_000 : 100_000);
const RSS_TOTAL = envNumber('BENCH_PROXY_RSS_TOTAL', QUICK ? 200_000 : 1_000_000);
// The RSS step's longest (unset: until a minute before DEADLINE, which leaves the last run's overrun, the processes'
// close and the result's writing their time).
const RSS_SECONDS = envNumber('BENCH_PROXY_RSS_SECONDS', Infinity);
const RSS_END_MARGIN_MS = 60_000;
// The client's sockets to each path (bench/lib/open-load.js): unset, one for each request in flight (session 22);
// BENCH_PROXY_CONNECTIONS=256 gives the cap every session before had, for an A/B of what it did.
const CONNECTIONS = envNumber('BENCH_PROXY_CONNECTIONS', undefined);
// Up to 30,000: the pass-through reached the old last step (15,000), so its ceiling was not measured.
// BENCH_PROXY_RAMP_SCALE scales them (0.25: from 500 req/s), for a loaded machine to see the search climb.
const SEARCH_STEPS = [2000, 3000, 4000, 5000, 6000, 8000, 10_000, 12_000, 15_000, 18_000, 22_000, 26_000, 30_000].map((rate) =>
  Math.round(rate * envNumber('BENCH_PROXY_RAMP_SCALE', 1)),
);

// Where a slow round's time went (session 24): each process of a run records its GC pauses and loop holds
// (bench/lib/stall-times.js: a GC observer and a 10 ms timer), and so does this one. 0: none recorded (an A/B of them).
const STALLS = envNumber('BENCH_PROXY_STALLS', 1) !== 0;
const SLOW_P99_MS = 100;
const stallArgs = STALLS ? [STALL_TIMES_IMPORT] : [];
const clientStalls = STALLS ? ownStalls() : null;

const upstream = await startUpstream({ delayMs: 0, nodeArgs: stallArgs });
const upstreamOrigin = `http://127.0.0.1:${upstream.port}`;

const bare = await forkBare(upstreamOrigin, stallArgs);
const proxy = await spawnProxy(upstream.baseUrl, stallArgs);
const targets = { direct: { origin: upstreamOrigin }, bare, proxy };
const NAMES = Object.keys(targets);
const clients = Object.fromEntries(Object.entries(targets).map(([name, t]) => [name, createLoadClient(t.origin, { connections: CONNECTIONS })]));
const messages = [{ role: 'user', content: 'How do I reset my password? I tried the link twice and it did not arrive.' }];
const bodies = {
  plain: { model: 'bench-blue', messages, max_tokens: 64 },
  stream: { model: 'bench-blue', messages, max_tokens: 64, stream: true, stream_options: { include_usage: true } },
};
const PATH = '/v1/chat/completions';

/** Requests each RSS step's proxy has answered so far, and its RSS after each run (for the RSS figures). */
const served = { proxyRss: 0, proxyAdmin: 0 };
/**
 * With each reading, where the RSS is (bench/lib/gc-count.js, in the RSS step's proxies): V8's heap committed, its old
 * and young generations, RSS outside the heap, and the old generation after the run's last mark-compact (null: none).
 * @typedef {{ heapTotalMb: number; oldSpaceMb: number; newSpaceMb: number; outsideHeapMb: number; oldAfterMarkCompactMb: number | null }} HeapReading
 * @type {Record<string, ({ requests: number; rssMb: number } & Partial<HeapReading>)[]>}
 */
const rssSamples = { proxyRss: [], proxyAdmin: [] };

/** One run's heap figures from what gc-count.js wrote at its end. */
function heapReading(/** @type {{ gcs: { type: string; oldAfter: number }[]; memory: any }} */ counts) {
  const mb = (/** @type {number} */ bytes) => round(bytes / 2 ** 20, 1);
  const { memory } = counts;
  const lastCompact = counts.gcs.findLast((g) => g.type === 'MarkSweepCompact');
  return {
    heapTotalMb: mb(memory.heapTotal),
    oldSpaceMb: mb(memory.spaces.old_space.size),
    newSpaceMb: mb(memory.spaces.new_space.size),
    outsideHeapMb: mb(memory.rss - memory.heapTotal),
    oldAfterMarkCompactMb: lastCompact ? mb(lastCompact.oldAfter) : null,
  };
}

/** The benchmark's own processes besides this one (the client): their CPU is not the machine's other load. */
const ownPids = () => [upstream.pid, ...Object.values(targets).map((t) => t.pid)];

/**
 * In a run's window (epoch ms), the stalls of the path's process (none for direct), the upstream's and the client's
 * (bench/lib/stalls.js). Taken after every run of the three paths, so each record starts at the last run's end.
 */
async function runStalls(name, from, to) {
  const pid = name === 'direct' ? undefined : targets[name].pid;
  const [path, upstreamRecord] = await Promise.all([pid ? takeStalls(pid) : null, takeStalls(/** @type {number} */ (upstream.pid))]);
  return {
    ...(pid && { process: stallFigures(path, from, to) }),
    upstream: stallFigures(upstreamRecord, from, to),
    client: stallFigures(clientStalls?.take() ?? null, from, to),
  };
}

/** A run's stalls as the log shows them. @param {string} name @param {Awaited<ReturnType<typeof runStalls>>} st */
const stallsLine = (name, st) =>
  [...(st.process ? [`${name}: ${stallText(st.process)}`] : []), `upstream: ${stallText(st.upstream)}`, `client: ${stallText(st.client)}`].join('; ');

async function measure(name, mode, rate, seconds = SECONDS) {
  const pid = targets[name].pid;
  const before = pid ? procStats(pid) : null;
  const machine = watchMachine(ownPids());
  const tcp = watchTcp();
  const load = () => clients[name].run({ path: PATH, body: bodies[mode], rate, seconds });
  const from = Date.now();
  const counted = name in served ? await gcCounted(pid, load) : undefined;
  const result = counted ? counted.result : await load();
  const to = Date.now();
  const after = pid ? procStats(pid) : null;
  // The RSS step's proxies record none (their own gc-count.js probe is what they carry).
  if (STALLS && !(name in served)) result.stalls = await runStalls(name, from, to);
  result.machine = machine();
  // Connections the kernel dropped at a full listen queue meanwhile (the machine's, not only this run's paths'):
  // each costs its request a SYN retransmit, 1 s or more (session 23).
  result.tcp = tcp();
  if (name in served) {
    served[name] += result.completed;
    if (after) rssSamples[name].push({ requests: served[name], rssMb: after.rssMb, ...(counted && heapReading(counted.counts)) });
  }
  if (before && after && result.completed > 0) result.cpuUsPerRequest = round(((after.cpuMs - before.cpuMs) * 1000) / result.completed, 1);
  return result;
}

/** Each step's wall time (s; the first from the process's start): where the run's time goes, against bench/run.js's limit. */
/** @type {Record<string, number>} */
const stepSeconds = {};
let stepFrom = 0;
function stepEnded(/** @type {string} */ step) {
  const now = performance.now() / 1000;
  stepSeconds[step] = round(now - stepFrom, 1);
  stepFrom = now;
}

// Warm-up: JIT, pools and sockets on every path.
for (const name of NAMES) for (const mode of ['plain', 'stream']) await measure(name, mode, 1000, 1);

/** What one path's run in a round says beside its percentiles: the client's late sends, the machine's other load. */
const roundFigures = (r) => ({
  p50: r.latencyMs.p50,
  p99: r.latencyMs.p99,
  firstByteP99: r.firstByteMs.p99,
  late: r.late,
  maxLateMs: r.maxLateMs,
  otherPercent: r.machine?.otherPercent ?? null,
  stealPercent: r.machine?.stealPercent ?? null,
  tcp: r.tcp,
  stalls: r.stalls ?? null,
});

/**
 * One rate and mode's figures from its rounds. The targets read the pooled figures (since session 21): a path's
 * percentile over every request of all its rounds, "added" the path's minus direct's. Beside them, as before, the
 * median over the rounds of each round's figure ("added" within the round) with its range, and every round's own
 * figures, with the rounds run while other work used over NOISY_OTHER_PERCENT of the machine named.
 */
function fixedRow(rate, mode, rounds) {
  const figure = (name, key, p) => spread(rounds.map((r) => r[name][key][p]));
  const added = (via, key, p) => spread(rounds.map((r) => r[via][key][p] - r.direct[key][p]));
  const pooled = (name, key) => {
    const runs = rounds.map((r) => r[name].samples[key]);
    return { p50: pooledPercentile(runs, 50), p99: pooledPercentile(runs, 99) };
  };
  const row = { rate, mode, rounds: ROUNDS, seconds: SECONDS };
  for (const name of NAMES) {
    row[name] = {
      latencyMs: { p50: figure(name, 'latencyMs', 'p50').median, p99: figure(name, 'latencyMs', 'p99').median },
      firstByteMs: { p50: figure(name, 'firstByteMs', 'p50').median, p99: figure(name, 'firstByteMs', 'p99').median },
      // From each request's due time too (not a target: the client's timer lateness is in it, up to a tick's 1 ms).
      pooled: { latencyMs: pooled(name, 'latencyMs'), firstByteMs: pooled(name, 'firstByteMs'), fromScheduleMs: pooled(name, 'fromScheduleMs') },
      achievedRate: median(rounds.map((r) => r[name].achievedRate)),
      errors: rounds.reduce((sum, r) => sum + r[name].errors, 0),
      dropped: rounds.reduce((sum, r) => sum + r[name].dropped, 0),
      late: rounds.reduce((sum, r) => sum + r[name].late, 0),
      maxLateMs: Math.max(...rounds.map((r) => r[name].maxLateMs)),
      // Over the rounds: connections dropped at a full listen queue while this path's runs went on.
      tcp: tcpSum(rounds.map((r) => r[name].tcp)),
      ...(name !== 'direct' && { cpuUsPerRequest: round(median(rounds.map((r) => r[name].cpuUsPerRequest)), 1) }),
    };
  }
  const addedOf = (key) =>
    Object.fromEntries(['bare', 'proxy'].map((via) => [via, { p50: added(via, key, 'p50').median, p99: added(via, key, 'p99').median }]));
  const rangeOf = (key) => Object.fromEntries(['bare', 'proxy'].map((via) => [via, { p50: added(via, key, 'p50'), p99: added(via, key, 'p99') }]));
  const pooledOf = (key) =>
    Object.fromEntries(
      ['bare', 'proxy'].map((via) => [
        via,
        { p50: round(row[via].pooled[key].p50 - row.direct.pooled[key].p50, 3), p99: round(row[via].pooled[key].p99 - row.direct.pooled[key].p99, 3) },
      ]),
    );
  row.addedPooled = pooledOf('latencyMs');
  row.added = addedOf('latencyMs');
  row.addedRange = rangeOf('latencyMs');
  if (mode === 'stream') {
    row.addedFirstBytePooled = pooledOf('firstByteMs');
    row.addedFirstByte = addedOf('firstByteMs');
    row.addedFirstByteRange = rangeOf('firstByteMs');
  }
  row.directRange = { p50: figure('direct', 'latencyMs', 'p50'), p99: figure('direct', 'latencyMs', 'p99') };
  row.perRound = rounds.map((r) => ({
    order: r.order,
    noisy: NAMES.some((name) => r[name].machine?.noisy),
    ...Object.fromEntries(NAMES.map((name) => [name, roundFigures(r[name])])),
  }));
  row.noisyRounds = row.perRound.flatMap((r, i) => (r.noisy ? [i + 1] : []));
  return row;
}

/** The log's account of a row: pooled figures (the verdicts'), the medians of rounds with their ranges, and the noise. */
function logRow(row) {
  const { rate, mode } = row;
  const r = (s) => `${s.median} [${s.min}..${s.max}]`;
  const stream = mode === 'stream';
  const key = stream ? 'firstByteMs' : 'latencyMs';
  const pooled = stream ? row.addedFirstBytePooled : row.addedPooled;
  const range = stream ? row.addedFirstByteRange : row.addedRange;
  const via = (name) => `by ${name} p50 ${pooled[name].p50} / p99 ${pooled[name].p99} (rounds p50 ${r(range[name].p50)} / p99 ${r(range[name].p99)})`;
  const others = row.perRound.flatMap((one) => NAMES.map((name) => one[name].otherPercent ?? 0));
  log(
    `${rate} req/s ${mode}, ${ROUNDS} rounds of ${SECONDS} s, all requests pooled (median of rounds [range]): direct p50 ${row.direct.pooled[key].p50} / p99 ${row.direct.pooled[key].p99} ms ` +
      `(p99 ${r(row.directRange.p99)}); added ${stream ? '(first byte) ' : ''}${via('bare')}, ${via('proxy')} ms ` +
      `(CPU/request bare ${row.bare.cpuUsPerRequest}, proxy ${row.proxy.cpuUsPerRequest} µs; proxy errors ${row.proxy.errors}, dropped ${row.proxy.dropped}; ` +
      `client sends over 10 ms late: direct ${row.direct.late}, bare ${row.bare.late}, proxy ${row.proxy.late}; ` +
      `during the runs of direct: ${tcpLine(row.direct.tcp)}; of bare: ${tcpLine(row.bare.tcp)}; of proxy: ${tcpLine(row.proxy.tcp)}; ` +
      `rounds with other load > ${NOISY_OTHER_PERCENT}%: ${row.noisyRounds.length ? row.noisyRounds.join(', ') : 'none'}, most ${Math.max(...others)}%)`,
  );
}

// Fixed rates. This VM's speed drifts from second to second, so one run per path would compare different
// moments: each (rate, mode) runs ROUNDS short rounds of direct, pass-through and proxy back to back (the order
// rotating each round, so no path is always first or last), and every figure is taken the same way for every path.
stepEnded('startAndWarmUp');
const fixed = [];
for (const rate of RATES) {
  for (const mode of ['plain', 'stream']) {
    const rounds = [];
    for (let i = 0; i < ROUNDS; i++) {
      const order = NAMES.map((_, k) => NAMES[(k + i) % NAMES.length]);
      const got = { order };
      for (const name of order) {
        const r = (got[name] = await measure(name, mode, rate));
        if (r.stalls && r.latencyMs.p99 > SLOW_P99_MS) {
          log(
            `${rate} req/s ${mode} round ${i + 1}, ${name}: p99 ${r.latencyMs.p99} ms, ${r.late} sends late (up to ${r.maxLateMs} ms); ` +
              `in the run, ${stallsLine(name, r.stalls)}`,
          );
        }
      }
      rounds.push(got);
    }
    const row = fixedRow(rate, mode, rounds);
    fixed.push(row);
    logRow(row);
  }
}

/**
 * One try at a rate, judged by bench/lib/sustained-rule.js. With it, the path's process's CPU (% of one core) and
 * the whole machine's (% of all cores, client and upstream included), and the other work's share: they tell whether
 * the path's one thread, the shared machine or something else ran out first.
 */
async function sustainedTry(name, rate) {
  const r = await measure(name, 'plain', rate, Math.max(2, SECONDS));
  const misses = tryMisses(r, rate);
  const processCpu = r.cpuUsPerRequest === undefined ? null : Math.round((r.cpuUsPerRequest * r.achievedRate) / 1e4);
  const figures = {
    achieved: r.achievedRate,
    // From each request's due time (the rule's), and from its send (the fixed rates' measure) beside.
    p99: r.fromScheduleMs.p99,
    maxMs: r.fromScheduleMs.max,
    p99FromSend: r.latencyMs.p99,
    late: r.late,
    maxLateMs: r.maxLateMs,
    queuedInClient: r.queuedInClient,
    connectionsOpen: r.connectionsOpen,
    connectionsOpened: r.connectionsOpened,
    ok: misses.length === 0,
    misses,
    processCpu,
    machineCpu: r.machine?.machinePercent ?? null,
    otherCpu: r.machine?.otherPercent ?? null,
    noisy: r.machine?.noisy ?? false,
    tcp: r.tcp,
    stalls: r.stalls ?? null,
  };
  // The latencies too (not kept in the result): the p99 of a rate's tries pooled is reported beside its verdict.
  return { figures, latencies: r.samples.fromScheduleMs };
}

/** @typedef {Awaited<ReturnType<typeof sustainedTry>>['figures']} SustainedTry */

/** One try of path `name` as the log shows it. @param {string} name @param {SustainedTry} t */
const tryLine = (name, t) =>
  `${t.achieved} req/s p99 ${t.p99} ms (max ${t.maxMs}) ${t.ok ? 'ok' : `missed: ${t.misses.join(', ')}`} ` +
  `(CPU ${t.processCpu}% of a core, machine ${t.machineCpu}%, other work ${t.otherCpu}%${t.noisy ? ': noisy' : ''}; ${t.late} sent late` +
  `${t.queuedInClient ? `, up to ${t.queuedInClient} waiting in the client for a socket` : ''}; ${t.connectionsOpen} sockets, ${t.connectionsOpened} opened in the try; ${tcpLine(t.tcp)}` +
  `${t.stalls && t.p99 !== null && t.p99 > SLOW_P99_MS ? `; in the try, ${stallsLine(name, t.stalls)}` : ''})`;

/** Bisections between a path's last sustained step and its first missed one: the ramp's steps are 20-33% apart. */
const BISECTIONS = envNumber('BENCH_PROXY_BISECTIONS', 3);
// Whole searches the sustained figure is read from (session 24): each path's median of them is its rate.
const SEARCHES = envNumber('BENCH_PROXY_SEARCHES', QUICK ? 2 : 3);
// A later search starts this many ramp steps under the path's first search's rate (bench/lib/sustained-rule.js's
// restartStep): ~40% less time a search than from the bottom (session 24). A large number starts every search there.
const RESTART_BELOW = envNumber('BENCH_PROXY_RESTART_BELOW', 2);
const SEARCHED = /** @type {const} */ (['bare', 'proxy']);
/** Tries made by every search so far: which path goes first swaps every turn, across searches too. */
let turns = 0;

/**
 * One search for the highest sustained rate of the pass-through and the proxy, by the same rule: a rate is sustained when a
 * majority of TRIES tries is (one VM stall cannot fail it, one lucky second cannot pass it). The ramp climbs
 * SEARCH_STEPS from each path's `startStep` until its first missed step (a later search's first step missed: down the
 * ramp until one passes), then bisects BISECTIONS times between its last sustained step
 * and that one (rates rounded to 100 req/s). The two paths alternate try by try throughout, so both see the same
 * moments of the VM, and which goes first swaps every turn (since session 21): before, the proxy's try always came
 * right after the pass-through's at a higher rate, so whatever a heavier try leaves behind in the shared client and
 * upstream (their garbage, their sockets) fell on the proxy's tries alone.
 */
async function highestSustained(/** @type {Record<string, number>} */ startStep) {
  const paths = SEARCHED;
  /**
   * Per path: its search (bench/lib/sustained-rule.js), the rate to try next, and every decided rate.
   * @type {Record<string, { search: import('./lib/sustained-rule.js').SearchState; next: number | undefined; steps: object[] }>}
   */
  const state = Object.fromEntries(paths.map((name) => [name, { search: startSearch(startStep[name]), next: SEARCH_STEPS[startStep[name]], steps: [] }]));
  for (;;) {
    const running = paths.filter((name) => state[name].next !== undefined);
    if (running.length === 0) break;
    const tries = /** @type {Record<string, SustainedTry[]>} */ (Object.fromEntries(running.map((name) => [name, []])));
    const latencies = /** @type {Record<string, Float64Array[]>} */ (Object.fromEntries(running.map((name) => [name, []])));
    const verdict = (name) =>
      stepVerdict(
        tries[name].map((t) => t.ok),
        TRIES,
      );
    for (let i = 0; i < TRIES; i++) {
      const order = turns++ % 2 ? [...running].reverse() : running;
      for (const name of order) {
        if (verdict(name) !== undefined) continue;
        const one = await sustainedTry(name, /** @type {number} */ (state[name].next));
        tries[name].push(one.figures);
        latencies[name].push(one.latencies);
      }
    }
    for (const name of running) {
      const s = state[name];
      const rate = /** @type {number} */ (s.next);
      const ok = verdict(name) === true;
      // Not judged: what a rule reading the tries together would see, where one hold in one try weighs less (session 21).
      const pooledP99 = pooledPercentile(latencies[name], 99);
      s.steps.push({ rate, ok, pooledP99, tries: tries[name] });
      log(
        `${name} at ${rate} req/s: ${tries[name].map((t) => tryLine(name, t)).join('; ')}: ${ok ? 'sustained' : 'NOT sustained'} (p99 of the tries pooled ${pooledP99} ms)`,
      );
      s.search = afterVerdict(s.search, rate, ok);
      s.next = nextRate(s.search, SEARCH_STEPS, BISECTIONS);
    }
  }
  return Object.fromEntries(paths.map((name) => [name, { rate: state[name].search.rate, startRate: SEARCH_STEPS[startStep[name]], steps: state[name].steps }]));
}

/**
 * SEARCHES whole searches, each as above, the later ones started RESTART_BELOW ramp steps under the first's rate of
 * the path. The figure (bench/lib/sustained-rule.js's searchesFigure): each path's median rate (`rate`, what the RSS
 * step and bench/run.js read), its range, each search's, and the ratio of the medians (the target's).
 */
async function sustainedSearches() {
  /** @type {Record<string, { rate: number; startRate: number; steps: object[] }>[]} */
  const searches = [];
  for (let i = 0; i < SEARCHES; i++) {
    const startStep = Object.fromEntries(SEARCHED.map((name) => [name, i === 0 ? 0 : restartStep(SEARCH_STEPS, searches[0][name].rate, RESTART_BELOW)]));
    const one = await highestSustained(startStep);
    searches.push(one);
    log(
      `sustained search ${i + 1} of ${SEARCHES}: bare ${one.bare.rate}, proxy ${one.proxy.rate} req/s (from ${one.bare.startRate} / ${one.proxy.startRate})` +
        `${one.bare.rate > 0 ? `: ${round(one.proxy.rate / one.bare.rate, 2)}x` : ''}`,
    );
  }
  const figure = searchesFigure({ bare: searches.map((s) => s.bare.rate), proxy: searches.map((s) => s.proxy.rate) });
  const pathLine = (/** @type {'bare' | 'proxy'} */ name) => `${name} ${figure[name].median} (${figure[name].rates.join(', ')})`;
  log(
    `sustained, median of ${SEARCHES} searches (each search's): ${pathLine('bare')}, ${pathLine('proxy')} req/s: ` +
      `${figure.ratio === null ? 'no ratio (the pass-through sustained no step)' : `${figure.ratio}x`} (each search's ${figure.ratios.map((r) => r ?? 'none').join(', ')})`,
  );
  const path = (/** @type {'bare' | 'proxy'} */ name) => ({
    rate: figure[name].median,
    rates: figure[name].rates,
    min: figure[name].min,
    max: figure[name].max,
    searches: searches.map((s) => s[name]),
  });
  return { bare: path('bare'), proxy: path('proxy'), ratio: figure.ratio, ratios: figure.ratios };
}
stepEnded('fixedRates');
const sustained = await sustainedSearches();
stepEnded('sustained');

// RSS up to the proxy's RSS_TOTAL-th request, at a rate it sustains, in runs of a fortieth of the total. V8's
// heap grows and is compacted in a sawtooth (here 118-138 MB over 600,000 requests at 3,000 req/s), so two single
// readings compare two points of the tooth as much as two moments of the run: the growth judged is the median of
// the readings in the first window (RSS_FIRST to 3 x RSS_FIRST requests) against the median of those in the last
// fifth of the run; the single readings at both ends and the range are reported beside it. Two proxies started now
// take the same runs in turn: a plain one (proxyRss) and one with the admin API (proxyAdmin: what a proxy a rollout
// drives keeps, session 18). Both new, so both windows are read at this step's rate: the proxy the fixed rates and the
// search drove passes its 100,000th to 300,000th requests during them, at up to several times this rate, where V8's
// heap is larger (session 19: a new admin proxy's +17% beside that proxy's -1.4% was this, not the results feed).
const rssRate = envNumber('BENCH_PROXY_RSS_RATE', Math.max(1000, Math.round((0.8 * (sustained.proxy.rate || 2000)) / 500) * 500));
const rssChunk = Math.max(5000, Math.round(RSS_TOTAL / 40));
// Each with bench/lib/gc-count.js (idle but for a signal handler and a check a request) to tell, reading by reading,
// V8's heap sizing (its old generation between mark-compacts, its young generation) from memory kept (rss20).
targets.proxyRss = await spawnProxy(upstream.baseUrl, [GC_COUNT_IMPORT]);
targets.proxyAdmin = await spawnProxy(upstream.baseUrl, [GC_COUNT_IMPORT], undefined, { admin: true });
// 256 sockets, as before session 22: the target is memory kept a request, and a stall's burst of new sockets would
// read as growth.
for (const name of ['proxyRss', 'proxyAdmin']) clients[name] = createLoadClient(targets[name].origin, { connections: 256 });
// In a time budget (session 22; bench/lib/rss-budget.js): 2,000,000 requests at 0.8x a sustained 4,000 req/s or
// less took the benchmark past 15 of bench/run.js's 18 minutes, and a slower machine lost every figure to its kill.
// The runs go on while they fit in the time left at the step's pace so far, the plain proxy's first.
const rssStarted = performance.now();
const rssEnds = rssStarted + Math.min(DEADLINE - RSS_END_MARGIN_MS - Date.now(), RSS_SECONDS * 1000);
let rssNoAnswer = false;
for (;;) {
  const now = performance.now();
  const runs = nextRssRuns({
    served: { plain: served.proxyRss, admin: served.proxyAdmin },
    total: RSS_TOTAL,
    chunk: rssChunk,
    secondsLeft: (rssEnds - now) / 1000,
    secondsPerRequest: rssPace({ rate: rssRate, elapsedSeconds: (now - rssStarted) / 1000, answered: served.proxyRss + served.proxyAdmin }),
  });
  if (runs.plain === 0 && runs.admin === 0) break;
  let answered = false;
  for (const [name, requests] of /** @type {const} */ ([
    ['proxyRss', runs.plain],
    ['proxyAdmin', runs.admin],
  ])) {
    if (requests === 0) continue;
    const before = served[name];
    await measure(name, 'plain', rssRate, requests / rssRate);
    answered ||= served[name] > before;
  }
  if (!answered) {
    // Neither proxy answered a request of its run: the step ends short, and its target is not judged (see `met`).
    log(`RSS step stopped: no answer in a run at ${rssRate} req/s (plain proxy at ${served.proxyRss}, admin at ${served.proxyAdmin} requests)`);
    rssNoAnswer = true;
    break;
  }
}
stepEnded('rss');
log(
  `steps' wall time: ${Object.entries(stepSeconds)
    .map(([step, seconds]) => `${step} ${seconds} s`)
    .join(', ')}`,
);
/** The step's account: its rate, its time and budget, and why the plain proxy ended short of RSS_TOTAL (null: it did not). */
const rssStep = {
  rate: rssRate,
  seconds: round((performance.now() - rssStarted) / 1000, 1),
  budgetSeconds: round((rssEnds - rssStarted) / 1000, 1),
  stoppedBy: served.proxyRss >= RSS_TOTAL ? null : rssNoAnswer ? 'no answer' : 'time',
};
if (rssStep.stoppedBy === 'time') {
  log(
    `RSS measured to ${served.proxyRss} requests of ${RSS_TOTAL} (admin proxy to ${served.proxyAdmin}): the step's ${rssStep.budgetSeconds} s ` +
      `ran out at ${rssRate} req/s; the RSS target is not judged (met: false)`,
  );
} else if (served.proxyAdmin < RSS_TOTAL && !rssNoAnswer) {
  log(
    `RSS of the admin proxy measured to ${served.proxyAdmin} requests of ${RSS_TOTAL}: its runs gave way to the plain proxy's in the step's ${rssStep.budgetSeconds} s`,
  );
}

/** The RSS figures of one proxy's readings (see above). */
function rssOf(samples) {
  const rssMedian = (list) => median(list.map((s) => s.rssMb));
  const total = samples.at(-1)?.requests ?? 0;
  const firstWindow = samples.filter((s) => s.requests >= RSS_FIRST && s.requests <= 3 * RSS_FIRST);
  const lastWindow = samples.filter((s) => s.requests >= 0.8 * total);
  const firstReading = samples.find((s) => s.requests >= RSS_FIRST);
  const lastReading = samples.at(-1);
  const later = samples.filter((s) => s.requests >= RSS_FIRST).map((s) => s.rssMb);
  const firstMedian = firstWindow.length > 0 ? rssMedian(firstWindow) : firstReading?.rssMb;
  const lastMedian = rssMedian(lastWindow);
  const first = firstWindow.length > 0 ? firstWindow : samples.filter((s) => s === firstReading);
  /** A heap figure's medians over the two windows and its range after RSS_FIRST: where an RSS move was. */
  const heapFigure = (/** @type {keyof HeapReading} */ key) => {
    const values = (/** @type {typeof samples} */ list) => list.map((s) => s[key]).filter((v) => typeof v === 'number');
    const later = values(samples.filter((s) => s.requests >= RSS_FIRST));
    const figure = (/** @type {number | null} */ v) => (v === null ? null : round(v, 1));
    return {
      first: figure(median(values(first))),
      last: figure(median(values(lastWindow))),
      min: later.length ? Math.min(...later) : null,
      max: later.length ? Math.max(...later) : null,
    };
  };
  return {
    rate: rssRate,
    // Whether the readings reached the step's RSS_TOTAL requests (the growth judged is to `last.requests` either way).
    total: RSS_TOTAL,
    reachedTotal: total >= RSS_TOTAL,
    first: firstReading,
    last: lastReading,
    // null: no reading in the window (a step that ended before RSS_FIRST requests, or before the last fifth).
    firstWindowMedianMb: firstMedian === undefined || firstMedian === null ? null : round(firstMedian, 1),
    lastWindowMedianMb: lastMedian === null ? null : round(lastMedian, 1),
    // The windows' lowest readings (a compaction's trough): memory kept raises them, V8's headroom above them does not.
    firstWindowMinMb: first.length ? Math.min(...first.map((s) => s.rssMb)) : null,
    lastWindowMinMb: lastWindow.length ? Math.min(...lastWindow.map((s) => s.rssMb)) : null,
    minMb: later.length ? Math.min(...later) : null,
    maxMb: later.length ? Math.max(...later) : null,
    readings: samples.length,
    growthPercent: firstMedian && lastMedian ? round((100 * (lastMedian - firstMedian)) / firstMedian, 1) : null,
    heap: Object.fromEntries(
      /** @type {(keyof HeapReading)[]} */ (['heapTotalMb', 'oldSpaceMb', 'newSpaceMb', 'outsideHeapMb', 'oldAfterMarkCompactMb']).map((key) => [
        key,
        heapFigure(key),
      ]),
    ),
  };
}
const rss = rssOf(rssSamples.proxyRss);
const rssAdmin = rssOf(rssSamples.proxyAdmin);
for (const { label, r } of [
  { label: 'proxy', r: rss },
  { label: 'proxy with admin', r: rssAdmin },
]) {
  log(
    `${label} RSS median ${mbText(r.firstWindowMedianMb)} over requests ${RSS_FIRST}-${3 * RSS_FIRST}, ${mbText(r.lastWindowMedianMb)} over the last fifth up to ${r.last?.requests ?? 0} (${r.growthPercent === null ? 'no growth figure' : `${r.growthPercent}%`}); ` +
      `readings ${mbText(r.first?.rssMb)} at ${r.first?.requests ?? RSS_FIRST}, ${mbText(r.last?.rssMb)} at ${r.last?.requests ?? 0}, range ${mbText(r.minMb)} to ${mbText(r.maxMb)}; RSS runs at ${rssRate} req/s`,
  );
  const h = r.heap;
  // A window without a reading (a step that ended short) reads "none", not null.
  const at = (/** @type {number | null | undefined} */ mb) => (mb === null || mb === undefined ? 'none' : mb);
  const move = (/** @type {{ first: number | null; last: number | null }} */ f) => `${at(f.first)} -> ${at(f.last)}`;
  const compacts = h.oldAfterMarkCompactMb.min === null ? 'none' : `${h.oldAfterMarkCompactMb.min}-${h.oldAfterMarkCompactMb.max}`;
  log(
    `${label} where (same windows, MB): lowest RSS ${at(r.firstWindowMinMb)} -> ${at(r.lastWindowMinMb)}; V8 heap committed ${move(h.heapTotalMb)} (old generation ${move(h.oldSpaceMb)}, young ${move(h.newSpaceMb)}), ` +
      `RSS outside the heap ${move(h.outsideHeapMb)}; old generation after mark-compacts ${compacts}`,
  );
}

for (const client of Object.values(clients)) await client.close();
await bare.close();
await proxy.close();
await targets.proxyRss.close();
await targets.proxyAdmin.close();
await upstream.close();

const at1000 = fixed.find((r) => r.rate === 1000 && r.mode === 'plain');
const stream1000 = fixed.find((r) => r.rate === 1000 && r.mode === 'stream');
if (!at1000 || !stream1000) throw new Error('no figures at 1,000 req/s, which the targets are read at');
// The latency targets read the pooled figures: the p99 of all a path's requests over its rounds, not a median of
// rounds' p99s that each rest on 20 requests (fixedRow).
const targetsMet = {
  addedP50At1000: at1000.addedPooled.proxy.p50 <= 0.3,
  addedP99At1000: at1000.addedPooled.proxy.p99 <= 2,
  addedTtftP99At1000: /** @type {{ proxy: { p99: number } }} */ (stream1000.addedFirstBytePooled).proxy.p99 <= 1,
  // Of the medians, unrounded.
  sustainedRatio: sustained.bare.rate > 0 ? sustained.proxy.rate / sustained.bare.rate >= 0.8 : null,
  // Judged only to RSS_TOTAL: growth to fewer requests is reported, not met.
  rssFlat: rss.reachedTotal && rss.growthPercent !== null ? rss.growthPercent < 10 : null,
};
writeResult({
  name: 'proxy',
  seconds: SECONDS,
  rounds: ROUNDS,
  tries: TRIES,
  // The client's sockets to each path (null: one for each request in flight).
  connections: CONNECTIONS ?? null,
  sustainedRule: SUSTAINED,
  fixed,
  // Per path: `rate` the median of the searches', `rates` each search's, their range, and each search's steps.
  sustained: { bare: sustained.bare, proxy: sustained.proxy },
  sustainedSearches: SEARCHES,
  // The ratio of the medians (the target's), and each search's own beside it.
  sustainedRatio: sustained.ratio,
  sustainedRatios: sustained.ratios,
  rss,
  rssStep,
  stepSeconds,
  // Not judged by a target (the issue's is the plain proxy's): what a proxy a rollout drives keeps, from session 18.
  rssAdmin,
  targetsMet,
  // A target not measured (null: the pass-through sustained no step, the RSS step ended short of RSS_TOTAL) is not met.
  met: Object.values(targetsMet).every((v) => v === true),
});
