// rate32: where the rate rules' power goes on the verdict benchmark's 100 req/s regression plan (5 x 60 s at
// 10/25/50/75/100% green; error_rate 0.03, compare_to_blue max_error_rate_increase 0.01 and
// max_quality_fail_rate_increase 0.02, latency_p95: 4 sequential rules, per-check α 0.01 / 20; blue 2% errors
// and 2% quality failures). The same seeded streams judged by the breach side of the rules under variants that
// each undo one cost (consecutive_errors left out: it takes no α):
//   bench        as bench/verdicts.js judges this plan: once a second and at each stage's end, every request
//                answered when sent (its rows draw no latency, so nothing runs);
//   running      as the engine counts requests still running (latency log-normal p50 300 ms, p95 900 ms on both
//                arms): outcomes unknown, so events for blue's upper bound in a comparison;
//   prefix       running, and each arm judged on the requests sent up to `at - D` too, D in 0.25-4 s, the
//                tightest bound taken (valid: a bound for a prefix of the requests in the order sent);
//   alpha/5      the whole rollout's 0.01 split over the 5 stages only (as if the plan had one rule);
//   alpha/1      0.01 per check (no split at all: not a valid budget, a bound on what the split costs);
//   rollout-blue blue over the rollout so far in every stage (session 11: unsound on a shared burst or drift);
//   rollout-green error_rate judged on green's requests over the whole rollout (one test, α 0.01 / 4: valid for
//                the absolute rule, whose null is every request's rate within the limit, sequential.ts).
// Session 33's candidates for error_rate (the comparisons as the engine judges them, running requests counted):
//   split        the stage's own test at α 0.01 / (2 x 4 x 5) beside one test over green's whole rollout at
//                α 0.01 / (2 x 4): the rule's share halved between them;
//   from-stage   each stage's test runs on from the stage's start to the rollout's end (at a look in stage s, s
//                tests: green's requests since stage 1, since stage 2, ..., since s), each at the stage split's
//                α 0.01 / (4 x 5): as many tests, at the same α, as now; each longer;
//   whole        green's whole rollout alone at α 0.01 / 4 (rollout-green with running requests counted).
// Cases: errors (green 4% throughout), late (green = blue until the 75% stage, 4% from its start), quality
// (green 6% quality failures), healthy (green = blue), under (blue 2%, green 2.9% errors against the 3% limit).
//   node bench/tools/rate-power.js [ROLLOUTS=50] [CASE=errors|late|quality|healthy|under] [ONLY=all|variant,...]
import { positionalArgs } from '../lib/args.js';

const {
  rollouts: ROLLOUTS,
  case: CASE,
  only: ONLY,
} = positionalArgs({
  rollouts: 50,
  case: ['errors', 'late', 'quality', 'healthy', 'under'],
  only: 'all',
});
if (!(Number.isInteger(ROLLOUTS) && ROLLOUTS > 0)) {
  process.stderr.write(
    'usage: node bench/tools/rate-power.js [ROLLOUTS=50 (a whole number > 0)] [CASE=errors|late|quality|healthy|under] [ONLY=all|variant,...]\n',
  );
  process.exit(2);
}
// Loaded once the arguments are checked: a refusal need not wait for dist/'s modules to load.
const { censoredBounds, differenceBounds, exceeds, priorAround } = await import('../../dist/analysis/index.js');
const { sampleLognormal } = await import('../../dist/sim/lognormal.js');
const { caughtLine, stagedStream } = await import('./staged-rollouts.js');
const RATE = 100;
const STAGE_MS = 60_000;
const WEIGHTS = [0.1, 0.25, 0.5, 0.75, 1];
const MIN_REQUESTS = 10;
const BLUE = { error: 0.02, quality: 0.02 };
const GREEN = {
  errors: { error: 0.04, quality: 0.02 },
  late: { error: 0.04, quality: 0.02 },
  quality: { error: 0.02, quality: 0.06 },
  healthy: BLUE,
  under: { error: 0.029, quality: 0.02 },
}[CASE];
/** When green turns to GREEN: the late case's 75% stage, otherwise from the start (green = blue before). */
const GREEN_FROM_MS = CASE === 'late' ? 3 * STAGE_MS : 0;
const LATENCY = { p50: 300, p95: 900 };
const ALPHA = 0.01 / (4 * WEIGHTS.length);
const COMPARE_PRIOR = priorAround(0.05);
const ERROR_PRIOR = priorAround(0.03);
const PREFIX_MS = [0, 250, 500, 1000, 2000, 4000];
const base = { running: false, lookMs: 1000, rolloutBlue: false, rolloutGreen: false };
const VARIANTS = [
  { ...base, name: 'bench', alpha: ALPHA },
  { ...base, name: 'running', alpha: ALPHA, running: true },
  { ...base, name: 'prefix', alpha: ALPHA, running: true, prefix: true },
  { ...base, name: 'alpha/5', alpha: 0.01 / WEIGHTS.length },
  { ...base, name: 'alpha/1', alpha: 0.01 },
  { ...base, name: 'rollout-blue', alpha: ALPHA, rolloutBlue: true },
  { ...base, name: 'rollout-green', alpha: ALPHA, rolloutGreen: true },
  { ...base, name: 'split', alpha: ALPHA, running: true, windows: 'split' },
  { ...base, name: 'from-stage', alpha: ALPHA, running: true, windows: 'from-stage' },
  { ...base, name: 'whole', alpha: ALPHA, running: true, windows: 'whole' },
].filter((v) => ONLY === 'all' || ONLY.split(',').includes(v.name));

/** One rollout's requests: [sentAt, arm (0 blue, 1 green), failed, qualityFailed, latency]. */
function stream(seed) {
  return stagedStream(seed, { rate: RATE, stageMs: STAGE_MS, weights: WEIGHTS }, (next, green, at) => {
    const rates = green && at >= GREEN_FROM_MS ? GREEN : BLUE;
    const failed = next() < rates.error;
    const quality = !failed && next() < rates.quality;
    return [failed, quality, sampleLognormal(next, LATENCY.p50, LATENCY.p95)];
  });
}

/** An arm's counts from its requests sent before `cut`, at time `at` (running: not answered by then). */
function counts(requests, cut, at, running) {
  const c = { requests: 0, failures: 0, successes: 0, quality: 0, running: 0 };
  for (const [sentAt, , failed, quality, ms] of requests) {
    if (sentAt >= cut) break;
    if (running && sentAt + ms > at) {
      c.running++;
      continue;
    }
    c.requests++;
    if (failed) c.failures++;
    else {
      c.successes++;
      if (quality) c.quality++;
    }
  }
  return c;
}

/** The rule that breaches first at this look, or undefined: the breach sides of rate-rules.ts's three rules. */
function breach(green, blue, variant) {
  const { alpha } = variant;
  const g = green;
  const b = blue;
  // error_rate's tests: the stage's own green, or (variant.windows) the windows of errorWindows, each at its α.
  const tests = g.windows ?? [{ arm: g.rolloutGreen ?? g, alpha: variant.errorAlpha ?? alpha }];
  for (const { arm, alpha: a } of tests)
    if (arm.requests >= MIN_REQUESTS && exceeds(censoredBounds(arm.failures, arm.running, arm.requests + arm.running, a, ERROR_PRIOR).lower, 0.03))
      return 'error_rate';
  if (g.requests < MIN_REQUESTS || b.requests < MIN_REQUESTS) return undefined;
  const diff = (gx, gn, bx, bn) => differenceBounds({ x: gx, n: gn, unknown: g.running }, { x: bx, n: bn, unknown: b.running }, alpha, COMPARE_PRIOR).lower;
  if (exceeds(diff(g.failures, g.requests, b.failures, b.requests), 0.01)) return 'max_error_rate_increase';
  if (g.successes >= MIN_REQUESTS && b.successes >= MIN_REQUESTS && exceeds(diff(g.quality, g.successes, b.quality, b.successes), 0.02))
    return 'max_quality_fail_rate_increase';
  return undefined;
}

/**
 * error_rate's tests at a look in stage s (0-based) under session 33's candidates: each a window of green's requests
 * (sent before `cut`, counted at `at`) and its α.
 */
function errorWindows(greenStages, s, cut, at, variant) {
  const since = (first) => counts(greenStages.slice(first, s + 1).flat(), cut, at, variant.running);
  const rule = 0.01 / 4;
  if (variant.windows === 'whole') return [{ arm: since(0), alpha: rule }];
  if (variant.windows === 'split')
    return [
      { arm: since(s), alpha: rule / 2 / WEIGHTS.length },
      { arm: since(0), alpha: rule / 2 },
    ];
  return Array.from({ length: s + 1 }, (_, first) => ({ arm: since(first), alpha: rule / WEIGHTS.length }));
}

function judge(requests, variant) {
  const blueStages = [];
  const greenStages = [];
  const greenAll = [];
  let i = 0;
  let greenSent = 0;
  for (let s = 0; s < WEIGHTS.length; s++) {
    const start = s * STAGE_MS;
    /** @type {any[][][]} */
    const arms = [[], []];
    blueStages.push(arms[0]);
    greenStages.push(arms[1]);
    for (let at = start + variant.lookMs; at <= start + STAGE_MS; at += variant.lookMs) {
      for (; i < requests.length && requests[i][0] < at; i++) {
        arms[requests[i][1]].push(requests[i]);
        if (requests[i][1] === 1) {
          greenSent++;
          greenAll.push(requests[i]);
        }
      }
      const reference = variant.rolloutBlue || WEIGHTS[s] >= 1 ? blueStages.flat() : arms[0];
      for (const d of variant.prefix ? PREFIX_MS : [0]) {
        const green = counts(arms[1], at - d, at, variant.running);
        if (variant.rolloutGreen) green.rolloutGreen = counts(greenAll, at - d, at, variant.running);
        if (variant.windows) green.windows = errorWindows(greenStages, s, at - d, at, variant);
        const rule = breach(green, counts(reference, at - d, at, variant.running), variant);
        if (rule) return { at: at / 1000, stage: s + 1, greenRequests: greenSent, rule };
      }
    }
  }
  return undefined;
}

const started = Date.now();
const streams = Array.from({ length: ROLLOUTS }, (_, r) => stream(33_000 + r));
for (const variant of VARIANTS) {
  // rollout-green's error_rate is one test over the rollout: α 0.01 / 4 rules, not split over the stages.
  const v = variant.rolloutGreen ? { ...variant, errorAlpha: 0.01 / 4 } : variant;
  const caught = /** @type {NonNullable<ReturnType<typeof judge>>[]} */ (streams.map((requests) => judge(requests, v)).filter(Boolean));
  const rules = {};
  for (const c of caught) rules[c.rule] = (rules[c.rule] ?? 0) + 1;
  console.log(`${variant.name.padEnd(13)} ${caughtLine(caught, ROLLOUTS, WEIGHTS.length)}  ${JSON.stringify(rules)}`);
}
console.log(`(${ROLLOUTS} rollouts, ${CASE}, ${Math.round((Date.now() - started) / 1000)} s)`);
