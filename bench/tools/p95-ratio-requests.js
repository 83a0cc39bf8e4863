// p95ratio31: requests per arm (as many on each) before compare_to_blue.max_latency_p95_ratio can breach when
// green's latencies are really a multiple of blue's, and before it reads ok when green = blue, with the one-sided
// quantile bounds the rule judges on since session 30 (dist/analysis/quantile.js, latency-ratio.js). Log-normal
// latencies (blue p50 300 ms, p95 900 ms: p95 = 3 x p50; green the multiple of each), every request answered at
// once, judged after every pair; the median (and p90) over `streams` seeded streams per cell, at per-check α
// 0.01 / 0.002 / 0.0005 (each arm's bounds at half of it, as the rule spends it).
//   node bench/tools/p95-ratio-requests.js [STREAMS=201] [LIMIT=1.5]
// The count thresholds of the bounds depend on n alone, so they are computed once per n (fewestOverAbove,
// mostOverBelow) and read against each stream's buckets here, as quantile.ts reads them; the answer of every stream
// is checked against the rule itself (compareLatency) at its n and n - 1, and the run stops if they disagree.
import { positionalArgs } from '../lib/args.js';

const { streams: STREAMS, limit: LIMIT } = positionalArgs({ streams: 201, limit: 1.5 });
if (!(Number.isInteger(STREAMS) && STREAMS > 0 && LIMIT > 1)) {
  process.stderr.write(`usage: node bench/tools/p95-ratio-requests.js [STREAMS=201 (a whole number > 0)] [LIMIT=1.5 (> 1)]\n`);
  process.exit(2);
}
// Loaded once the arguments are checked: a refusal need not wait for dist/'s modules to load.
const { compareLatency } = await import('../../dist/analysis/latency-ratio.js');
const { exceeds, fewestOverAbove, mostOverBelow, priorAround } = await import('../../dist/analysis/index.js');
const { BucketCounter, HIGHEST_MS, LOWEST_MS, bucketLowerMs, bucketUpperMs } = await import('../../dist/metrics/buckets.js');
const { emptyArmStats } = await import('../../dist/metrics/types.js');
const { sampleLognormal } = await import('../../dist/sim/lognormal.js');
const { createRandom } = await import('../../dist/core/random.js');
const ALPHAS = [0.01, 0.002, 0.0005];
const SHARE = 0.05;
const PRIOR = priorAround(SHARE);
const BLUE = { p50: 300, p95: 900 };
/** [green's multiple of blue, the status waited for] */
const CELLS = [
  [2, 'breach'],
  [3, 'breach'],
  [5, 'breach'],
  [1, 'ok'],
];
const MAX_N = 200_000;

/** Per arm alpha: the count thresholds at every n, computed as the streams reach it. */
function thresholds(armAlpha) {
  const fewest = [0];
  const most = [0];
  return (n) => {
    for (let m = fewest.length; m <= n; m++) {
      fewest.push(fewestOverAbove(m, SHARE, armAlpha, PRIOR));
      most.push(mostOverBelow(m, SHARE, armAlpha, PRIOR));
    }
    return { fewest: fewest[n], most: most[n] };
  };
}

/** quantile.ts lowerBound: the highest bucket lower edge with at least `minOver` requests at or above it. */
function lowerEdge(buckets, minOver) {
  let atOrAbove = 0;
  for (let k = buckets.counts.length - 1; k >= 0; k--) {
    atOrAbove += buckets.counts[k];
    if (atOrAbove >= minOver) return Math.max(LOWEST_MS, bucketLowerMs(buckets.first + k));
  }
  return LOWEST_MS;
}

/** quantile.ts upperBound (nothing running): the lowest bucket upper edge with at most `maxOver` above it. */
function upperEdge(buckets, maxOver) {
  if (maxOver < 0) return HIGHEST_MS;
  let above = 0;
  let bound = HIGHEST_MS;
  for (let k = buckets.counts.length - 1; k >= 0 && above <= maxOver; k--) {
    bound = Math.min(HIGHEST_MS, bucketUpperMs(buckets.first + k));
    above += buckets.counts[k];
  }
  return bound;
}

function status(green, blue, at) {
  if (exceeds(lowerEdge(green, at.fewest), LIMIT * upperEdge(blue, at.most))) return 'breach';
  return upperEdge(green, at.most) <= LIMIT * lowerEdge(blue, at.fewest) ? 'ok' : 'undecided';
}

/** The rule itself on the same counts: its status at n. */
function ruleStatus(green, blue, n, alpha) {
  const arm = (buckets) => ({ ...emptyArmStats(), requests: n, successes: n, latencyBuckets: buckets });
  const ctx = { green: arm(green), blue: arm(blue), blueReference: arm(blue), alpha, minRequests: 1, where: '' };
  return compareLatency(ctx, LIMIT).check.status;
}

/** Pairs until the rule first reads `wanted`, judged after every pair. */
function pairsUntil(multiple, wanted, alpha, at, seed) {
  const next = createRandom(seed);
  const green = new BucketCounter();
  const blue = new BucketCounter();
  let before;
  for (let n = 1; n <= MAX_N; n++) {
    blue.record(sampleLognormal(next, BLUE.p50, BLUE.p95));
    green.record(sampleLognormal(next, BLUE.p50 * multiple, BLUE.p95 * multiple));
    const counts = { green: green.snapshot(), blue: blue.snapshot() };
    if (status(counts.green, counts.blue, at(n)) === wanted) {
      const rule = ruleStatus(counts.green, counts.blue, n, alpha);
      if (rule !== wanted || (before && ruleStatus(before.green, before.blue, n - 1, alpha) === wanted))
        throw new Error(`seed ${seed}: the rule disagrees at n = ${n} (${rule}, wanted ${wanted})`);
      return n;
    }
    before = counts;
  }
  throw new Error(`seed ${seed}: no ${wanted} within ${MAX_N} pairs`);
}

const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))];
const started = Date.now();
for (const alpha of ALPHAS) {
  const at = thresholds(alpha / 2);
  for (const [multiple, wanted] of CELLS) {
    const runs = Array.from({ length: STREAMS }, (_, s) => pairsUntil(multiple, wanted, alpha, at, 95_000 + s));
    console.log(
      `${wanted} at green ${multiple}x blue vs a ${LIMIT}x limit, alpha ${alpha}: median ${quantile(runs, 0.5)}, p90 ${quantile(runs, 0.9)} requests per arm`,
    );
  }
}
console.log(`(${STREAMS} streams a cell, ${Math.round((Date.now() - started) / 1000)} s)`);
