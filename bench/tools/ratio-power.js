// ratio32: where the p95 ratio rule's power goes on the verdict benchmark's 100 req/s p95 ratio plan (5 x 60 s at
// 10/25/50/75/100% green, compare_to_blue.max_latency_p95_ratio: 1.5, 5 sequential rules: per-check α 0.01 / 25).
// The same seeded request streams (Poisson arrivals, log-normal latencies: blue p50 300 ms, p95 900 ms; green a
// multiple of both) are judged by the ratio rule alone under variants that each undo one cost:
//   engine      as the engine and bench/verdicts.js judged it until session 33: once a second and at each stage's
//               end, requests still running counted (green's at their ages, blue's as slower than anything), the
//               stage's own blue below 100% green, blue over the rollout so far at 100%;
//   no-running  every latency known when its request is sent (nothing running): the cost of counting them;
//   blue-known / green-known  the same for one arm only, the other's running requests counted as the rule does;
//   sent-before blue's upper bound at v judged on the requests sent at least v ago, whose count over v is exact
//               (sound; see sentBeforeBreaches): as the engine judges it since session 33, with blue's send times;
//   prefix      each arm also judged on the requests sent 0.25-4 s before the look, the tightest bound kept (sound);
//   every-100ms looks ten times a second (anytime-valid bounds: looking more spends no α, only the wait shrinks);
//   alpha/5     the ratio's α not shared with the plan's other 4 rules (0.01 / 5 stages): the rule split's cost;
//   alpha/1     the whole 0.01 to the one rule and no stage split either (invalid as a plan's budget: a bound);
//   rollout-blue blue over the rollout so far in every stage (session 11's trade-off: unsound on a shared drift).
//   node bench/tools/ratio-power.js [ROLLOUTS=100] [MULTIPLE=2] [ONLY=all]   (MULTIPLE=1: healthy, the false
//   rollbacks; ONLY: one variant by name)
// Prints, per variant, the share caught, the median / p90 seconds and green requests, and how many were caught in
// each stage. Sent-before is the engine's rule since session 33; prefix is not in the engine (docs/benchmarks-history.md,
// sessions 32 and 33). The thresholds of the bounds depend on n alone and are computed once per n and α (as
// bench/tools/p95-ratio-requests.js does); every 100th look is checked against the rule itself (compareLatency;
// for sent-before, with blue's send times as the engine gives them), and the run stops if they disagree.
import { positionalArgs } from '../lib/args.js';
import { leadingCount } from '../lib/util.js';

const { rollouts: ROLLOUTS, multiple: MULTIPLE, only: ONLY } = positionalArgs({ rollouts: 100, multiple: 2, only: 'all' });
const LIMIT = 1.5;
const RATE = 100;
const STAGE_MS = 60_000;
const WEIGHTS = [0.1, 0.25, 0.5, 0.75, 1];
const MIN_REQUESTS = 10;
const SHARE = 0.05;
const BLUE = { p50: 300, p95: 900 };
const ALPHA = 0.01 / (5 * WEIGHTS.length);
const VARIANTS = [
  { name: 'engine', alpha: ALPHA, running: true, lookMs: 1000, rolloutBlue: false },
  { name: 'no-running', alpha: ALPHA, running: false, lookMs: 1000, rolloutBlue: false },
  { name: 'blue-known', alpha: ALPHA, running: true, known: 0, lookMs: 1000, rolloutBlue: false },
  { name: 'green-known', alpha: ALPHA, running: true, known: 1, lookMs: 1000, rolloutBlue: false },
  { name: 'sent-before', alpha: ALPHA, running: true, sentBefore: true, lookMs: 1000, rolloutBlue: false },
  { name: 'prefix', alpha: ALPHA, running: true, prefixMs: [0, 250, 500, 1000, 2000, 4000], lookMs: 1000, rolloutBlue: false },
  { name: 'every-100ms', alpha: ALPHA, running: true, lookMs: 100, rolloutBlue: false },
  { name: 'alpha/5', alpha: 0.01 / WEIGHTS.length, running: true, lookMs: 1000, rolloutBlue: false },
  { name: 'alpha/1', alpha: 0.01, running: true, lookMs: 1000, rolloutBlue: false },
  { name: 'rollout-blue', alpha: ALPHA, running: true, lookMs: 1000, rolloutBlue: true },
];
if (!(Number.isInteger(ROLLOUTS) && ROLLOUTS > 0 && MULTIPLE > 0 && (ONLY === 'all' || VARIANTS.some((v) => v.name === ONLY)))) {
  process.stderr.write('usage: node bench/tools/ratio-power.js [ROLLOUTS=100 (a whole number > 0)] [MULTIPLE=2 (> 0)] [ONLY=all (or a variant)]\n');
  process.exit(2);
}
// Loaded once the arguments are checked: a refusal need not wait for dist/'s modules to load.
const { compareLatency } = await import('../../dist/analysis/latency-ratio.js');
const { exceeds, fewestOverAbove, mostOverBelow, priorAround } = await import('../../dist/analysis/index.js');
const { BucketCounter, HIGHEST_MS, LOWEST_MS, bucketLowerMs, bucketTotal, bucketUpperMs, mergeBuckets, withLatencies } =
  await import('../../dist/metrics/buckets.js');
const { emptyArmStats } = await import('../../dist/metrics/types.js');
const { sampleLognormal } = await import('../../dist/sim/lognormal.js');
const { caughtLine, stagedStream } = await import('./staged-rollouts.js');
const PRIOR = priorAround(SHARE);

/** Per-arm α: the count thresholds at n, computed once. */
const cache = new Map();
function thresholdsAt(armAlpha, n) {
  let table = cache.get(armAlpha);
  if (!table) cache.set(armAlpha, (table = new Map()));
  let at = table.get(n);
  if (!at) table.set(n, (at = { fewest: fewestOverAbove(n, SHARE, armAlpha, PRIOR), most: mostOverBelow(n, SHARE, armAlpha, PRIOR) }));
  return at;
}

/** quantile.ts lowerBound. */
function lowerEdge(buckets, minOver) {
  let atOrAbove = 0;
  const counts = buckets?.counts ?? [];
  for (let k = counts.length - 1; k >= 0; k--) {
    atOrAbove += counts[k];
    if (atOrAbove >= minOver) return Math.max(LOWEST_MS, bucketLowerMs(buckets.first + k));
  }
  return LOWEST_MS;
}

/** quantile.ts upperBound: running requests count as above everything. */
function upperEdge(buckets, running, maxOver) {
  if (maxOver < running) return HIGHEST_MS;
  let above = running;
  let bound = HIGHEST_MS;
  const counts = buckets?.counts ?? [];
  for (let k = counts.length - 1; k >= 0 && above <= maxOver; k--) {
    bound = Math.min(HIGHEST_MS, bucketUpperMs(buckets.first + k));
    above += counts[k];
  }
  return bound;
}

/** The rule's breach, from cached thresholds: green's lower edge over LIMIT x blue's upper edge. */
function breaches(green, blue, alpha) {
  const greenDone = bucketTotal(green.buckets);
  const blueDone = bucketTotal(blue.buckets);
  if (greenDone < MIN_REQUESTS || blueDone < MIN_REQUESTS) return false;
  const g = thresholdsAt(alpha / 2, greenDone + green.ages.length);
  const b = thresholdsAt(alpha / 2, blueDone + blue.running);
  return exceeds(lowerEdge(withLatencies(green.buckets, green.ages), g.fewest), LIMIT * upperEdge(blue.buckets, blue.running, b.most));
}

/** The arm's requests sent before `cut` (its `sent` list is in the order sent). */
function sentBefore(sent, cut) {
  return leadingCount(sent, ([sentAt]) => sentAt < cut);
}

/**
 * The sent-before variant (what the rule could do with blue's send times): blue's upper bound at a value v judges
 * the requests sent at least v before now, of which every one still running is over v and every one answered
 * is known; those answered over v were all sent then. So the count over v is exact, nothing counted as slower than
 * anything, and the lowest v whose count shows fewer than 5% over it bounds blue's p95: a bound at v below the true
 * p95 q means the requests at or over q, in that prefix, are no more than those over v, which the confidence
 * sequence of the one stream 1{X >= q} (in the order sent) allows at no n with probability 1 - α.
 */
function sentBeforeBreaches(green, blue, reference, at, alpha) {
  const greenDone = bucketTotal(green.buckets);
  if (greenDone < MIN_REQUESTS || bucketTotal(blue.buckets) < MIN_REQUESTS) return false;
  const g = thresholdsAt(alpha / 2, greenDone + green.ages.length);
  const greenLower = lowerEdge(withLatencies(green.buckets, green.ages), g.fewest);
  const ages = reference.flatMap((arm) => arm.pending.map(([sentAt]) => at - sentAt));
  const counts = blue.buckets.counts;
  let answeredOver = 0;
  let upper = HIGHEST_MS;
  for (let k = counts.length - 1; k >= 0; k--) {
    const v = bucketUpperMs(blue.buckets.first + k);
    const n = reference.reduce((sum, arm) => sum + sentBefore(arm.sent, at - v), 0);
    const over = answeredOver + ages.filter((age) => age > v).length;
    if (n > 0 && over <= thresholdsAt(alpha / 2, n).most) upper = Math.min(upper, v);
    answeredOver += counts[k];
  }
  return exceeds(greenLower, LIMIT * upper);
}

/**
 * The prefix variant (not what the rule does; what it could do with send times): each arm judged on the requests
 * sent up to \`at - D\` for each D in variant.prefixMs, those of them still running counted as the rule counts them,
 * and the tightest bound over the D taken. Valid: each is a bound for a prefix of the arm's requests in the order
 * sent (the confidence sequence holds at every n at once), censored outward, so the tightest of them holds whenever
 * the uncensored sequence does.
 */
function prefixBreaches(arms, reference, at, variant) {
  let greenLower = 0;
  let blueUpper = Infinity;
  for (const d of variant.prefixMs) {
    const cut = at - d;
    const green = new BucketCounter();
    const ages = [];
    for (const [sentAt, ms] of arms[1].sent) {
      if (sentAt >= cut) break;
      if (sentAt + ms <= at) green.record(ms);
      else ages.push(at - sentAt);
    }
    const blue = new BucketCounter();
    let running = 0;
    for (const arm of reference)
      for (const [sentAt, ms] of arm.sent) {
        if (sentAt >= cut) break;
        if (sentAt + ms <= at) blue.record(ms);
        else running++;
      }
    const g = green.snapshot();
    const b = blue.snapshot();
    if (bucketTotal(g) < MIN_REQUESTS || bucketTotal(b) < MIN_REQUESTS) continue;
    const gAt = thresholdsAt(variant.alpha / 2, bucketTotal(g) + ages.length);
    const bAt = thresholdsAt(variant.alpha / 2, bucketTotal(b) + running);
    greenLower = Math.max(greenLower, lowerEdge(withLatencies(g, ages), gAt.fewest));
    blueUpper = Math.min(blueUpper, upperEdge(b, running, bAt.most));
  }
  return exceeds(greenLower, LIMIT * blueUpper);
}

/** @param {object} [blueSent] blue's send times (the engine's ArmSends), for the rule's sent-before bound */
function ruleBreaches(green, blue, alpha, blueSent) {
  const arm = (buckets, running) => ({
    ...emptyArmStats(),
    requests: bucketTotal(buckets),
    successes: bucketTotal(buckets),
    inFlight: running,
    latencyBuckets: buckets,
  });
  const blueArm = arm(blue.buckets, blue.running);
  const ctx = { green: arm(green.buckets, green.ages.length), blue: blueArm, blueReference: blueArm, alpha, minRequests: MIN_REQUESTS, where: '' };
  return compareLatency(ctx, LIMIT, green.ages, blueSent).check.status === 'breach';
}

/** The reference's blue at `at` as the engine gives it: requests, running ages, how many sent at least an age before. */
function blueSentAt(reference, at) {
  const runningAgesMs = reference.flatMap((arm) => arm.pending.map(([sentAt]) => at - sentAt));
  return {
    requests: reference.reduce((sum, arm) => sum + arm.sent.length, 0),
    runningAgesMs,
    runningAgesAtMostMs: runningAgesMs,
    sentAtLeast: (ageMs) => reference.reduce((sum, arm) => sum + sentBefore(arm.sent, at - ageMs), 0),
  };
}

/** One rollout's requests: [sentAt, arm (0 blue, 1 green), latency], in order sent. */
function stream(seed) {
  return stagedStream(seed, { rate: RATE, stageMs: STAGE_MS, weights: WEIGHTS }, (next, green) => {
    const f = green ? MULTIPLE : 1;
    return [sampleLognormal(next, BLUE.p50 * f, BLUE.p95 * f)];
  });
}

/** The first breach under a variant: { at (s), stage (1-based), greenRequests } or undefined. */
function judge(requests, variant) {
  let i = 0;
  const blueStages = [];
  let greenSent = 0;
  let looks = 0;
  for (let s = 0; s < WEIGHTS.length; s++) {
    const start = s * STAGE_MS;
    const end = start + STAGE_MS;
    /** @type {{ counter: import('../../dist/metrics/buckets.js').BucketCounter, pending: number[][], sent: number[][] }[]} */
    const arms = [
      { counter: new BucketCounter(), pending: [], sent: [] },
      { counter: new BucketCounter(), pending: [], sent: [] },
    ];
    blueStages.push(arms[0]);
    for (let at = start + variant.lookMs; at <= end; at += variant.lookMs) {
      for (; i < requests.length && requests[i][0] < at; i++) {
        const [sentAt, a, ms] = requests[i];
        if (a === 1) greenSent++;
        arms[a].sent.push([sentAt, ms]);
        if (variant.running && variant.known !== a) arms[a].pending.push([sentAt, ms]);
        else arms[a].counter.record(ms);
      }
      // Answers up to now land in their stage's buckets (finished stages' blue too: the rollout's reference).
      for (const arm of [...blueStages, arms[1]]) {
        arm.pending = arm.pending.filter(([sentAt, ms]) => (sentAt + ms <= at ? (arm.counter.record(ms), false) : true));
      }
      const green = { buckets: arms[1].counter.snapshot(), ages: arms[1].pending.map(([sentAt]) => at - sentAt) };
      const reference = variant.rolloutBlue || WEIGHTS[s] >= 1 ? blueStages : [arms[0]];
      const blue = {
        buckets: mergeBuckets(reference.map((arm) => arm.counter.snapshot())),
        running: reference.reduce((sum, arm) => sum + arm.pending.length, 0),
      };
      const breach = variant.prefixMs
        ? prefixBreaches(arms, reference, at, variant)
        : variant.sentBefore
          ? sentBeforeBreaches(green, blue, reference, at, variant.alpha)
          : breaches(green, blue, variant.alpha);
      const sent = variant.sentBefore ? blueSentAt(reference, at) : undefined;
      if (!variant.prefixMs && ++looks % 100 === 0 && breach !== ruleBreaches(green, blue, variant.alpha, sent))
        throw new Error(`${variant.name}: the rule disagrees at ${at} ms (cached ${breach})`);
      if (breach) return { at: at / 1000, stage: s + 1, greenRequests: greenSent };
    }
  }
  return undefined;
}

const started = Date.now();
const streams = Array.from({ length: ROLLOUTS }, (_, r) => stream(32_000 + r));
for (const variant of VARIANTS.filter((v) => ONLY === 'all' || v.name === ONLY)) {
  const caught = /** @type {NonNullable<ReturnType<typeof judge>>[]} */ (streams.map((requests) => judge(requests, variant)).filter(Boolean));
  console.log(`${variant.name.padEnd(12)} α/check ${variant.alpha.toPrecision(2).padEnd(7)} ${caughtLine(caught, ROLLOUTS, WEIGHTS.length)}`);
}
console.log(`(${ROLLOUTS} rollouts, green ${MULTIPLE}x blue, ${Math.round((Date.now() - started) / 1000)} s)`);
