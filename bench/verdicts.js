// Verdict benchmark: the real analysis code (dist/analysis evaluate) judging simulated request streams in
// virtual time, beside the old point-estimate rules (bench/lib/old-verdict.js) on the very same streams.
// No HTTP, no timers: arrivals are a seeded Poisson stream at the plan's rate, split by each stage's weight,
// judged at every analysis interval, at each stage's end, and at once after each green failure when the
// plan has consecutive_errors (as the engine does).
// Plans with compare_to_blue.max_latency_p95_ratio, and the regression plans' rows (session 33), also draw each
// request's latency (log-normal) and let it answer that much later: the ratio rule sees only answered requests in
// its buckets and the others as running, and the rate rules count the running ones as outcomes unknown, as the
// engine does; ratio plans also get blue's send times as the engine keeps them (blue's sent-before upper
// bound, and its running requests at their ages for its lower bound: src/analysis/quantile.ts).
// A rollout none of whose stages judged green rolls back on nothing_judged at its end (src/engine/unjudged.ts, as
// the engine does unless analysis.on_unjudged: promote); sim.scheduled rows send arrivals on a schedule, as
// `bluegreen rollout` generates them, rather than Poisson.
//   node bench/verdicts.js [--help] [--quick] [--ratio] [--session11] [--session12] [--session16] [--session27] [--session29]   (BENCH_VERDICT_ROLLOUTS=N
//     overrides the healthy count; --ratio runs only the plans with the p95 ratio rule, --session11 session 11's rows
//     and the shared-burst ones, --session12 session 12's, --session16 the low-traffic nothing_judged rows (sessions 16 and 17),
//     --session27 the answer-order rows (outcomes counted when answered, as the engine counts them), --session29 the
//     rows for many short stages, very low rates, outages, clustered failures, heavy-tailed latency and mixed streams;
//     BENCH_VERDICT_MATCH=regex only the rows whose name matches)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAlpha, evaluate, plannedBlueRequests } from '../dist/analysis/index.js';
import { logBeta } from '../dist/analysis/log-beta.js';
import { emptyArmStats } from '../dist/metrics/types.js';
import { BucketCounter } from '../dist/metrics/buckets.js';
import { sampleLognormal } from '../dist/sim/lognormal.js';
import { loadPlan } from '../dist/plan/load.js';
import { judgingOdds, nothingJudgedOdds } from '../dist/plan/judging-odds.js';
import { unjudgedStage } from '../dist/engine/unjudged.js';
import { oldVerdict } from './lib/old-verdict.js';
import { planFromYaml } from './lib/plan.js';
import { createRandom } from '../dist/core/random.js';
import { ABORTS_PER_CLIENT } from '../dist/analysis/aborts.js';
import { stickyPoint } from '../dist/split/index.js';
import { QUICK, envNumber, leadingCount, log, percentile, round, writeProgress, writeResult } from './lib/util.js';
import { checkFlags } from './lib/args.js';
import { greenSentBy } from './lib/green-sent.js';

// Before any row runs: the whole benchmark takes many minutes, so --help and a mistyped flag must not start it.
// Times are rough: the --quick run on the shared 2-core machine (2026-12-05, session 31: 11.3 min of wall time, 4.7
// min of CPU, at load 6-14), each row's rollouts a minute scaled to the full counts and to the CPU the run got (42%):
// minutes on a quiet core, about 2.4x that at load 10. The flags combine (--quick with any of the others: 5-10x
// shorter).
const USAGE = `usage: node bench/verdicts.js [flag...]   (no flag: every row, 2,000 healthy rollouts a plan: ~30 min quiet, ~75 at load 10)
  --quick       fewer rollouts (300 healthy a plan, sessions 11/12 100, session 29 200), every row: ~5 min (11 at load 10)
  --ratio       only the plans with max_latency_p95_ratio (session 29's heavy tails too): ~13 min
  --session11   only session 11's rows (client aborts, 95% green, drifting blue) and the shared-burst rows: ~4 min
  --session12   only session 12's rows (one sticky client's aborts): ~3 min
  --session16   only the low-traffic nothing_judged rows (sessions 16 and 17): ~1 min
  --session27   only the answer-order rows: ~2 min
  --session29   only session 29's rows (short stages, low rates, outages, clusters, heavy tails, mixed): ~8 min
  --help, -h    this text
environment: BENCH_VERDICT_ROLLOUTS=N healthy rollouts a plan (regressions half), BENCH_VERDICT_S11_ROLLOUTS=N
  (sessions 11 and 12), BENCH_VERDICT_S29_ROLLOUTS=N, BENCH_VERDICT_MATCH=regex only the rows whose name matches,
  BENCH_VERDICT_BLUE_AGES=0 blue's lower bound without its running ages (as before session 34: an A/B on one build),
  BENCH_VERDICT_GREEN_SENT=0 green's p95 upper bound without its send times (as before session 34's green34: A/B),
  BENCH_OUT=file the JSON there rather than on stdout
`;
checkFlags(USAGE, ['--quick', '--ratio', '--session11', '--session12', '--session16', '--session27', '--session29']);

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const HEALTHY = envNumber('BENCH_VERDICT_ROLLOUTS', QUICK ? 300 : 2000);
const RATIO_ONLY = process.argv.includes('--ratio');
const REGRESSED = Math.round(HEALTHY / 2);
/** Session 11's rows only (client aborts, a stage at 95% green, a drifting blue) and the shared-burst rows. */
const SESSION11 = process.argv.includes('--session11');
/** Session 12's rows only (one sticky client's aborts). */
const SESSION12 = process.argv.includes('--session12');
/** Session 16's rows only (low traffic: healthy greens rolled back on nothing_judged). */
const SESSION16 = process.argv.includes('--session16');
/** Session 27's rows only (answer order: outcomes counted when answered, failures answering first). */
const SESSION27 = process.argv.includes('--session27');
/** Session 29's rows only (many short stages, very low rates, outages, clustered failures, heavy tails, mixed streams). */
const SESSION29 = process.argv.includes('--session29');
/** BENCH_VERDICT_MATCH=regex: only the rows whose name matches (the seeds of the others are skipped, not shifted). */
const MATCH = process.env.BENCH_VERDICT_MATCH ? new RegExp(process.env.BENCH_VERDICT_MATCH) : undefined;
/** BENCH_VERDICT_BLUE_AGES=0: blue's send times without its running ages for its lower bound (before session 34). */
const BLUE_AGES = process.env.BENCH_VERDICT_BLUE_AGES !== '0';
/** BENCH_VERDICT_GREEN_SENT=0: green's upper bound counting its running requests as slower than anything (before green34). */
const GREEN_SENT = process.env.BENCH_VERDICT_GREEN_SENT !== '0';

/**
 * @typedef {{ error: number, quality: number, p50: number, p95: number, ttftP50?: number, ttftP95?: number }} Rates
 *   an arm's figures: error share, quality-failure share of successes, latency and ttft p50 / p95 in ms
 * @typedef {{ rule: string, atMs: number, greenRequests: number, greenFailures: number, stage: number }} Rollback
 *   when and on what evidence a judge rolled a rollout back
 * @typedef {NonNullable<ReturnType<typeof run>>} Row
 * @typedef {{ plan: string, name: string, alphaPerCheck: number, nAtCheckAlpha: number | null, nAtRolloutAlpha: number | null, greenRequestsInPlan: number }} FixedHorizonRow
 */

// --- seeded randomness -----------------------------------------------------------------------------------

/** P(latency > L) for a log-normal with the given p50 and p95 (how the simulator draws latencies). */
function lognormalOver(p50, p95, limit) {
  const sigma = Math.log(p95 / p50) / 1.6448536269514722;
  return 1 - normalCdf(Math.log(limit / p50) / sigma);
}

function normalCdf(z) {
  // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: enough for a stream's slow share.
  const t = 1 / (1 + (0.3275911 * Math.abs(z)) / Math.SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/** A Pareto draw with median p50 and tail index `tail` (no cap: below 2 its variance is infinite). */
function samplePareto(rng, p50, tail) {
  return (p50 / 2 ** (1 / tail)) * (1 - rng()) ** (-1 / tail);
}

// --- one rollout -----------------------------------------------------------------------------------------

/**
 * An arm's behaviour: error share, quality-failure share of successes, and for each latency / ttft limit the
 * share of requests over it (nested: a request over a longer limit is over the shorter ones too).
 */
function newArm() {
  return {
    requests: 0,
    successes: 0,
    failures: 0,
    qualityFailures: 0,
    consecutiveFailures: 0,
    ttftCount: 0,
    slow: { latency: {}, ttft: {} },
    // The p95 ratio rule: answered latencies, and how many requests are still running.
    buckets: new BucketCounter(),
    inFlight: 0,
    // Requests whose client gave up before the answer (plans with sim.clients): failures of class client_abort.
    aborts: 0,
    // Per sticky client (rows with sim.users): its aborts, and those past ABORTS_PER_CLIENT (left out of the comparisons).
    abortsBy: new Map(),
    pastCap: 0,
  };
}

function armStats(a) {
  const stats = {
    ...emptyArmStats(),
    requests: a.requests,
    successes: a.successes,
    failures: a.failures,
    qualityFailures: a.qualityFailures,
    consecutiveFailures: a.consecutiveFailures,
  };
  if (a.failures > 0) stats.failuresByClass = { server_error: a.failures - a.aborts };
  if (a.aborts > 0) stats.failuresByClass.client_abort = a.aborts;
  if (a.pastCap > 0) stats.abortsPastClientCap = a.pastCap;
  if (a.ttftCount > 0) stats.ttft = { p50: 0, p95: 0, p99: 0, max: 0, mean: 0, count: a.ttftCount };
  stats.slow = { latency: { ...a.slow.latency }, ttft: { ...a.slow.ttft } };
  const buckets = a.buckets.snapshot();
  if (buckets) stats.latencyBuckets = buckets;
  stats.inFlight = a.inFlight;
  return stats;
}

/**
 * Impatient clients (sim.clients): a request whose latency passes its client's patience is given up then, a
 * client_abort at that age, as a proxy reports it. `hangs`: the arm never answers.
 */
function drawAbort(rng, profile, arm, limits, clients, client) {
  const patience = rng() < clients.impatient ? clients.impatientMs[0] + rng() * (clients.impatientMs[1] - clients.impatientMs[0]) : clients.patientMs;
  const ms = profile.hangs ? Infinity : sampleLognormal(rng, profile.p50, profile.p95);
  if (ms <= patience) return undefined;
  arm.requests++;
  arm.failures++;
  arm.aborts++;
  if (client !== undefined) {
    const count = (arm.abortsBy.get(client) ?? 0) + 1;
    arm.abortsBy.set(client, count);
    if (count > ABORTS_PER_CLIENT) arm.pastCap++;
  }
  for (const limit of limits.latency) if (patience > limit) arm.slow.latency[limit] = (arm.slow.latency[limit] ?? 0) + 1;
  return { outcome: 'abort' };
}

function draw(rng, profile, arm, limits, streamShare, clients, client) {
  if (clients) {
    const aborted = drawAbort(rng, profile, arm, limits, clients, client);
    if (aborted) return aborted;
  }
  arm.requests++;
  let outcome = null;
  if (rng() < profile.error) {
    arm.failures++;
    arm.consecutiveFailures++;
    outcome = 'error';
  } else {
    arm.successes++;
    if (rng() < profile.quality) {
      arm.qualityFailures++;
      arm.consecutiveFailures++;
      outcome = 'quality';
    } else arm.consecutiveFailures = 0;
    if (limits.ttft.length && rng() < streamShare) {
      arm.ttftCount++;
      const u = rng();
      for (const limit of limits.ttft) if (u < (profile.ttftOver[limit] ?? 0)) arm.slow.ttft[limit] = (arm.slow.ttft[limit] ?? 0) + 1;
    }
  }
  if (profile.latency) {
    // A drawn latency: it decides the latency limits too, and answers that much later (see answer()).
    const ms = profile.latency.tail
      ? samplePareto(rng, profile.latency.p50, profile.latency.tail)
      : sampleLognormal(rng, profile.latency.p50, profile.latency.p95);
    for (const limit of limits.latency) if (ms > limit) arm.slow.latency[limit] = (arm.slow.latency[limit] ?? 0) + 1;
    return { outcome, ms };
  }
  const u = rng();
  for (const limit of limits.latency) if (u < (profile.latencyOver[limit] ?? 0)) arm.slow.latency[limit] = (arm.slow.latency[limit] ?? 0) + 1;
  return { outcome };
}

/**
 * Rows with sticky users (sim.users): each request from one of them, on the arm its sticky point puts it (as the
 * proxy's splitter does), or from sim.dominant's one heavy client, impatient in its own way. Its sticky id goes
 * with its aborts unless sim.uncapped (every abort counted in the comparisons, session 11's rule). `splitSeed`: the
 * split's seed, one for every rollout as a proxy's (its plan's name), or the rollout's own (sim.seededSplit), as
 * `bluegreen rollout` seeds it, so which users land on green differs from run to run.
 */
function stickyRequest(rng, sim, weight, splitSeed) {
  const heavy = sim.dominant !== undefined && rng() < sim.dominant.share;
  const id = heavy ? 'heavy' : `user-${Math.floor(rng() * sim.users)}`;
  const point = heavy ? sim.dominant.point : stickyPoint(splitSeed, id);
  const clients = heavy ? { impatient: 1, impatientMs: sim.dominant.patienceMs, patientMs: 0 } : sim.clients;
  return { arm: point < weight ? 'green' : 'blue', client: sim.uncapped ? undefined : id, clients };
}

/**
 * Requests still running (ratio plans, answer-order rows): each lands in its stage's buckets when its latency has
 * passed, and its outcome is counted then (`counts`), as the engine records a result: until then it is only running.
 * With `streak` (consecutive_errors) they are counted in the order they answered, and the counting stops at the green
 * answer that makes the streak (the engine judges at once then): its answer time is returned.
 */
function answer(pending, t, streak) {
  let kept = 0;
  const answered = [];
  for (const request of pending) {
    if (request.doneAt <= t) answered.push(request);
    else pending[kept++] = request;
  }
  pending.length = kept;
  if (streak !== undefined) answered.sort((a, b) => a.doneAt - b.doneAt);
  for (let i = 0; i < answered.length; i++) {
    const request = answered[i];
    request.arm.buckets.record(request.ms);
    request.arm.inFlight--;
    if (request.counts) addCounts(request.arm, request.counts);
    if (streak !== undefined && request.green && request.arm.consecutiveFailures >= streak) {
      // The rest answer after the streak's rollback: still running, as far as the judgement goes.
      pending.push(...answered.slice(i + 1));
      return request.doneAt;
    }
  }
  return undefined;
}

/**
 * A stage's arm at `at` as the engine's ArmSends gives it: its requests (answered or running), the running ones'
 * ages (exact: for blue's lower bound too, since session 34), and how many were sent at least an age before
 * (exactly: the engine's are exact at an edge within 1% of the age).
 */
function sentView(sentAt, pending, arm, at) {
  const runningAgesMs = pending.filter((r) => r.arm === arm).map((r) => at - r.sentAt);
  return {
    requests: sentAt.length,
    runningAgesMs,
    ...(BLUE_AGES && { runningAgesAtMostMs: runningAgesMs }),
    sentAtLeast: (ageMs) => leadingCount(sentAt, (t) => t <= at - ageMs),
  };
}

/**
 * The engine's overdue watch for the latency rules: the stage's green requests still running past each rule's limit,
 * counted over it (src/engine/judging.ts). The percentiles beside them only show; the rule judges the counts.
 */
function greenRunning(pending, green, at, thresholds) {
  const running = {};
  for (const rule of /** @type {const} */ (['latency_p95', 'latency_p99'])) {
    const limit = thresholds[rule];
    if (limit === undefined) continue;
    let over = 0;
    for (const request of pending) if (request.arm === green && at - request.sentAt > limit) over++;
    if (over > 0) running[rule] = { latency: { p50: 0, p95: 0, p99: 0, max: 0, mean: 0, count: green.requests + over }, running: over };
  }
  return running;
}

/** One answered request's counts (drawn into an arm of its own when sent) added to its stage's arm. */
function addCounts(arm, counts) {
  arm.requests += counts.requests;
  arm.successes += counts.successes;
  arm.failures += counts.failures;
  arm.qualityFailures += counts.qualityFailures;
  arm.ttftCount += counts.ttftCount;
  for (const kind of /** @type {const} */ (['latency', 'ttft']))
    for (const [limit, count] of Object.entries(counts.slow[kind])) arm.slow[kind][limit] = (arm.slow[kind][limit] ?? 0) + count;
  arm.consecutiveFailures = counts.failures + counts.qualityFailures > 0 ? arm.consecutiveFailures + 1 : 0;
}

/**
 * Runs one rollout for both judges on the same stream. Returns, per judge, undefined (promoted) or
 * { rule, atMs, greenRequests, greenFailures, stage }; and `ratioEnds`: the new judge's stage ends passed with the
 * p95 ratio rule, and those of them with it not yet ok (undecided or waiting: inconclusive), by stage number.
 */
function rollout(sim, seed) {
  const { plan } = sim;
  const rng = createRandom(seed);
  const config = plan.analysis;
  const stageCount = plan.stages.length;
  const interval = config.interval;
  const limits = sim.limits;
  const streak = { blue: 0, green: 0 };
  // Blue per stage: the comparisons judge green against the stage's own, or the latest stages' (reference.ts).
  const blueStages = [];
  /** @type {number[][]} Ratio plans: each stage's blue send times, in the order sent (the engine's ArmSends). */
  const blueSentAt = [];
  /** @type {number[][]} And green's. */
  const greenSentAt = [];
  /** Snapshots of finished stages' blue (streams counted when sent: nothing in them changes after). */
  const finishedBlue = [];
  /** And green's (the same: error_rate and quality_fail_rate judge green since each stage began). */
  const finishedGreen = [];
  const plannedBlue = plannedBlueRequests(plan);
  const pending = [];
  /** @type {{ new: Rollback | undefined, old: Rollback | undefined, ratioEnds: { ends: number, notOk: number[] } }} */
  const out = { new: undefined, old: undefined, ratioEnds: { ends: 0, notOk: [] } };
  let t = 0;
  // Scheduled arrivals are counted from the start (arrival i at i x 1000/rate ms), so no rounding accumulates.
  let arrivals = 1;
  const arrivalAfter = (at) => (sim.scheduled ? (++arrivals * 1000) / plan.traffic.rate : at - (Math.log(1 - rng()) / plan.traffic.rate) * 1000);
  let nextArrival = sim.scheduled ? 1000 / plan.traffic.rate : arrivalAfter(0);
  let nextTick = interval;
  const greenTotal = { requests: 0, failures: 0 };
  /** Each stage's arms, for unjudgedStage at its end; and how many stages passed having judged nothing of green. */
  const stageArms = [];
  let unjudgedStages = 0;
  /** The new judge's checks at its latest judgement: at a stage's end, those it passed on. */
  let checks = [];
  for (let s = 0; s < stageCount; s++) {
    const stage = plan.stages[s];
    const end = t + stage.duration;
    const arms = { blue: newArm(), green: newArm() };
    arms.blue.consecutiveFailures = streak.blue;
    arms.green.consecutiveFailures = streak.green;
    blueStages.push(arms.blue);
    blueSentAt.push([]);
    greenSentAt.push([]);
    stageArms.push(arms);
    const judge = (at) => {
      const streakAt = sim.running || sim.answerOrder ? answer(pending, at, config.thresholds.consecutive_errors) : undefined;
      const sent =
        streakAt === undefined ? { greenRequests: greenTotal.requests, greenFailures: greenTotal.failures } : greenSentBy(greenTotal, pending, streakAt);
      const totals = { ...sent, atMs: streakAt ?? at, stage: s + 1 };
      if (!out.new) {
        const blue = armStats(arms.blue);
        // Every stage's blue so far (this one last) and the plan's blue per stage: evaluate picks the reference.
        const stagesBlue = blueStages.map((arm, i) => (i === s ? blue : sim.running ? armStats(arm) : (finishedBlue[i] ??= armStats(arm))));
        // And green's (error_rate and quality_fail_rate judge it since each stage began, src/analysis/since-stage.ts).
        const green = armStats(arms.green);
        const answering = sim.running || sim.answerOrder;
        const stagesGreen = stageArms.map(({ green: arm }, i) => (i === s ? green : answering ? armStats(arm) : (finishedGreen[i] ??= armStats(arm))));
        const input = {
          stageIndex: s,
          stageCount,
          green,
          blue,
          blueStages: stagesBlue,
          greenStages: stagesGreen,
          greenWeight: stage.green_weight,
          plannedBlue,
          config,
        };
        // The engine's watch: every green request of the stage still running, at its age so far.
        if (sim.ratio) input.greenRunningAgesMs = pending.filter((r) => r.arm === arms.green).map((r) => at - r.sentAt);
        // And blue's send times in each stage so far, for its p95's sent-before upper bound (src/analysis/quantile.ts).
        if (sim.ratio) input.blueSent = blueStages.map((arm, i) => sentView(blueSentAt[i], pending, arm, at));
        // And green's in the stage, for its p95's sent-before upper bound (the ratio's ok side).
        if (sim.ratio && GREEN_SENT) input.greenSent = sentView(greenSentAt[s], pending, arms.green, at);
        // And its latency rules count green's running requests past their limit (src/engine/judging.ts).
        if (sim.running && limits.latency.length) input.greenRunning = greenRunning(pending, arms.green, at, config.thresholds);
        // As before session 27: the rate rules judged the answered requests alone.
        if (sim.answeredOnly) for (const arm of [...stagesGreen, ...stagesBlue]) arm.inFlight = 0;
        const verdict = evaluate(input);
        checks = verdict.checks;
        if (verdict.breach) out.new = { rule: verdict.breach.rule, ...totals };
      }
      if (!out.old) {
        const rule = oldVerdict(config, arms.green, arms.blue);
        if (rule) out.old = { rule, ...totals };
      }
      return out.new && out.old;
    };
    for (;;) {
      const next = Math.min(nextArrival, nextTick, end);
      t = next;
      if (next === nextArrival) {
        nextArrival = arrivalAfter(t);
        const { arm, client, clients } = sim.users
          ? stickyRequest(rng, sim, stage.green_weight, sim.seededSplit ? seed : 1)
          : { arm: rng() < stage.green_weight ? 'green' : 'blue', clients: sim.clients };
        if (sim.answerOrder) {
          // Counted when answered, after a latency that depends on the outcome (a 500 comes back at once).
          const counts = newArm();
          const { outcome } = draw(rng, profileAt(sim, arm, t), counts, limits, plan.traffic.stream, clients, client);
          const latency = outcome === 'error' ? sim.answerOrder.failure : sim.answerOrder[arm];
          const ms = latency.tail ? samplePareto(rng, latency.p50, latency.tail) : sampleLognormal(rng, latency.p50, latency.p95);
          arms[arm].inFlight++;
          pending.push({ arm: arms[arm], ms, sentAt: t, doneAt: t + ms, counts, green: arm === 'green', failed: outcome === 'error' });
          if (arm === 'green') {
            greenTotal.requests++;
            if (outcome === 'error') greenTotal.failures++;
          }
          continue;
        }
        // Drawn latencies: drawn into an arm of its own, counted when answered (answer()); running until then, not both.
        const drawn = sim.running ? newArm() : arms[arm];
        const { outcome, ms } = draw(rng, profileAt(sim, arm, t), drawn, limits, plan.traffic.stream, clients, client);
        if (sim.running && ms !== undefined) {
          arms[arm].inFlight++;
          (arm === 'blue' ? blueSentAt : greenSentAt)[s].push(t);
          pending.push({ arm: arms[arm], ms, sentAt: t, doneAt: t + ms, counts: drawn, green: arm === 'green', failed: outcome === 'error' });
          if (arm === 'green') {
            greenTotal.requests++;
            if (outcome === 'error') greenTotal.failures++;
          }
          continue;
        }
        if (sim.running) addCounts(arms[arm], drawn);
        else if (ms !== undefined) arms[arm].buckets.record(ms);
        if (arm === 'green') {
          greenTotal.requests++;
          if (outcome === 'error') greenTotal.failures++;
          if (outcome && config.thresholds.consecutive_errors !== undefined && judge(t)) return out;
        }
      } else if (next === nextTick) {
        nextTick += interval;
        if (judge(t)) return out;
      } else {
        // The stage's end: judged once more, then the next stage (the engine's onStageTimeUp).
        if (judge(t)) return out;
        if (!out.new) {
          const stats = stageArms.map((stageArm, index) => ({
            index,
            greenWeight: plan.stages[index].green_weight,
            durationMs: plan.stages[index].duration,
            verdict: /** @type {const} */ ('passed'),
            arms: { blue: armStats(stageArm.blue), green: armStats(stageArm.green) },
          }));
          if (unjudgedStage(plan, s, checks, stats, stage.green_weight)) unjudgedStages++;
          const ratio = checks.find((check) => check.rule === 'compare_to_blue.max_latency_p95_ratio');
          if (ratio) {
            out.ratioEnds.ends++;
            if (ratio.status !== 'ok') out.ratioEnds.notOk.push(s + 1);
          }
        }
        break;
      }
    }
    streak.blue = arms.blue.consecutiveFailures;
    streak.green = arms.green.consecutiveFailures;
  }
  if (!out.new && unjudgedStages === stageCount && config.on_unjudged === 'rollback') {
    out.new = { rule: 'nothing_judged', greenRequests: greenTotal.requests, greenFailures: greenTotal.failures, atMs: t, stage: stageCount };
  }
  return out;
}

// --- scenarios -------------------------------------------------------------------------------------------

function limitsOf(plan) {
  const t = plan.analysis.thresholds;
  return {
    latency: [t.latency_p95, t.latency_p99].filter((v) => v !== undefined).sort((a, b) => a - b),
    ttft: t.ttft_p95 !== undefined ? [t.ttft_p95] : [],
  };
}

/**
 * A healthy arm profile; latency shares from a log-normal (p50, p95), the simulator's own model.
 * @param {Rates} rates
 * @param {import('../dist/plan/plan.js').Plan} plan
 */
function profile({ error, quality, p50, p95, ttftP50, ttftP95 }, plan, latencyFactor = 1, drawn = hasRatio(plan)) {
  const limits = limitsOf(plan);
  const latencyOver = {};
  for (const limit of limits.latency) latencyOver[limit] = lognormalOver(p50 * latencyFactor, p95 * latencyFactor, limit);
  const ttftOver = {};
  for (const limit of limits.ttft) ttftOver[limit] = lognormalOver(ttftP50 ?? p50 / 3, ttftP95 ?? p95 / 3, limit);
  // Plans with the p95 ratio rule draw each latency (the rule needs the distribution, not only shares), and so do
  // the regression plans' rows (`drawn`), so that requests run as long as the engine sees them run.
  const latency = drawn ? { p50: p50 * latencyFactor, p95: p95 * latencyFactor } : undefined;
  // p50 / p95 for plans with impatient clients (drawAbort), which draw each latency against the client's patience.
  return { error, quality, latencyOver, ttftOver, latency, p50: p50 * latencyFactor, p95: p95 * latencyFactor };
}

function hasRatio(plan) {
  return plan.analysis.compare_to_blue?.max_latency_p95_ratio !== undefined;
}

/** @param {{ fromMs: number, toMs: number, error: number, arm?: string }} [burst] both arms (or `arm`) fail at this rate for a while (a shared upstream's hiccup) */
function simFor(plan, blue, green, burst) {
  // running: requests answer after their drawn latency (both arms draw one or neither), counted then.
  return { plan, limits: limitsOf(plan), profiles: { blue, green }, ratio: hasRatio(plan), running: blue.latency !== undefined, burst };
}

/** The arm's profile at time t: its own, or during a shared burst the burst's error rate. */
function profileAt(sim, arm, t) {
  const { burst, drift } = sim;
  const profile = sim.profiles[arm];
  if (drift) return { ...profile, error: drift.from + ((drift.to - drift.from) * t) / drift.totalMs };
  if (sim.change && arm === sim.change.arm && t >= sim.change.fromMs) return { ...profile, error: sim.change.error };
  // Episodes (session 29): every periodMs, lengthMs at their error rate, on both arms or on `arm` alone.
  const episodes = sim.episodes;
  if (episodes && (episodes.arm === undefined || episodes.arm === arm) && t % episodes.periodMs < episodes.lengthMs)
    return { ...profile, error: episodes.error };
  return burst && (burst.arm === undefined || burst.arm === arm) && t >= burst.fromMs && t < burst.toMs ? { ...profile, error: burst.error } : profile;
}

function summarise(results, judge) {
  const caught = results.map((r) => r[judge]).filter(Boolean);
  const sorted = (key) => caught.map((c) => c[key]).sort((a, b) => a - b);
  const rules = {};
  for (const c of caught) rules[c.rule] = (rules[c.rule] ?? 0) + 1;
  return {
    rolledBackPercent: round((100 * caught.length) / results.length, 2),
    greenRequests: { median: percentile(sorted('greenRequests'), 50), p95: percentile(sorted('greenRequests'), 95) },
    greenFailures: { median: percentile(sorted('greenFailures'), 50), p95: percentile(sorted('greenFailures'), 95) },
    seconds: { median: round(percentile(sorted('atMs'), 50) / 1000, 1), p95: round(percentile(sorted('atMs'), 95) / 1000, 1) },
    rules,
  };
}

/**
 * "12.5% rolled back (median / p95: 310 / 596 green requests, 20 / 31 failures, 44.2 / 58 s)": the figures a row's
 * table cells take, in the log as each row ends, so a run killed later (bench/run.js's limit) keeps the rows it ended.
 * @param {ReturnType<typeof summarise>} s
 */
function rolledBack(s) {
  if (s.rolledBackPercent === 0) return '0% rolled back';
  const pair = (/** @type {{ median: number | null, p95: number | null }} */ f) => `${f.median} / ${f.p95}`;
  return `${s.rolledBackPercent}% rolled back (median / p95: ${pair(s.greenRequests)} green requests, ${pair(s.greenFailures)} failures, ${pair(s.seconds)} s)`;
}

function run(name, sim, count, seedBase) {
  // --ratio: only the plans with the p95 ratio rule (the seeds of the others are skipped, not shifted).
  if (RATIO_ONLY && !sim.ratio) return null;
  if (SESSION11 && !sim.session11) return null;
  if (SESSION12 && !sim.session12) return null;
  if (SESSION16 && !sim.session16) return null;
  if (SESSION27 && !sim.session27) return null;
  if (SESSION29 && !sim.session29) return null;
  if (MATCH && !MATCH.test(name)) return null;
  const started = Date.now();
  const results = [];
  for (let i = 0; i < count; i++) results.push(rollout(sim, seedBase + i));
  const ms = Date.now() - started;
  const row = {
    name,
    rollouts: count,
    new: summarise(results, 'new'),
    old: summarise(results, 'old'),
    rolloutsPerMinute: Math.round((count / Math.max(1, ms)) * 60_000),
  };
  // The p95 ratio's stage ends passed not ok (session 34): those on_inconclusive extends or pauses.
  const ends = results.reduce((sum, r) => sum + r.ratioEnds.ends, 0);
  const stages = results.flatMap((r) => r.ratioEnds.notOk);
  const notOk = stages.length;
  const byStage = Array.from({ length: sim.plan.stages.length }, (_, i) => stages.filter((stage) => stage === i + 1).length);
  if (ends > 0) row.ratioInconclusive = { stageEnds: ends, notOk, byStage, percent: round((100 * notOk) / ends) };
  const inconclusive =
    ends > 0 ? `, p95 ratio not ok at ${notOk} of ${ends} stage ends passed (${round((100 * notOk) / ends)}%; by stage ${byStage.join(' / ')})` : '';
  log(`${name}: new ${rolledBack(row.new)}, old ${rolledBack(row.old)}${inconclusive} (${count} rollouts, ${row.rolloutsPerMinute}/min)`);
  return row;
}

// --- fixed-horizon comparison ----------------------------------------------------------------------------

function logBinomialPmf(k, n, p) {
  const logChoose = -Math.log(n + 1) - logBeta(n - k + 1, k + 1);
  return logChoose + (k === 0 ? 0 : k * Math.log(p)) + (n - k === 0 ? 0 : (n - k) * Math.log1p(-p));
}

/** P(X >= c) under Binomial(n, p) for every c, summed from the top. */
function upperTails(n, p) {
  const tails = new Float64Array(n + 2);
  for (let k = n; k >= 0; k--) tails[k] = tails[k + 1] + Math.exp(logBinomialPmf(k, n, p));
  return tails;
}

/** Whether an exact one-sided binomial test of p <= p0 at level alpha on n samples has the power at p1. */
function enough(n, p0, p1, alpha, power) {
  const null0 = upperTails(n, p0);
  let c = Math.ceil(n * p0);
  while (c <= n && null0[c] > alpha) c++;
  return c <= n && upperTails(n, p1)[c] >= power;
}

/**
 * Smallest n (to within discreteness: power is not quite monotone in n) for an exact one-sided binomial test
 * of p <= p0 at level alpha with the given power at p1: the fixed-horizon test a sequential one is measured by.
 */
function fixedHorizonN(p0, p1, alpha, power = 0.99) {
  let lo = 1;
  let hi = 1;
  while (!enough(hi, p0, p1, alpha, power)) {
    lo = hi;
    hi *= 2;
    if (hi > 1_000_000) return null;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (enough(mid, p0, p1, alpha, power)) hi = mid;
    else lo = mid;
  }
  return hi;
}

// --- the run ---------------------------------------------------------------------------------------------

const examplePlans = {
  // Healthy rates per plan, green = blue. Simulated plans take theirs from their simulate block; the plans
  // for real upstreams get typical figures: 1% errors, and the quality failures their own sampled traffic
  // causes (classification samples with max_tokens 2-5 answer in a few characters on either arm).
  'demo.yaml': { error: 0.005, quality: 0.03, p50: 300, p95: 900 },
  'demo-rollback.yaml': { error: 0, quality: 0, p50: 300, p95: 900 },
  'openai.yaml': { error: 0.01, quality: 0.03, p50: 2000, p95: 5000 },
  'relay.yaml': { error: 0.01, quality: 0.125, p50: 2500, p95: 6000 },
  'anthropic.yaml': { error: 0.01, quality: 0.01, p50: 6000, p95: 14_000, ttftP50: 800, ttftP95: 2500 },
};

/**
 * `overLimits` (session 29): healthy on average, but over a limit for a while (an outage, failures in episodes), on
 * both arms or green alone: what the false-rollback budget does not cover. `budget`: rows at confidence 0.8, whose
 * false rollbacks are held to 20%, not 1%.
 * @type {{ healthy: (Row | null)[], regressions: (Row | null)[], fixedHorizon: FixedHorizonRow[], ratio: (Row | null)[], uncapped: (Row | null)[], overLimits: (Row | null)[], budget: (Row | null)[] }}
 */
const rows = { healthy: [], regressions: [], fixedHorizon: [], ratio: [], uncapped: [], overLimits: [], budget: [] };
// Each row, as it is added, goes to the results file with the rows before it (partial): a full run takes half an hour
// of CPU, and bench/run.js killing it at its limit kept nothing when the results were written only at the end.
for (const list of Object.values(rows)) {
  list.push = (...added) => {
    const length = Array.prototype.push.apply(list, added);
    if (added.some((row) => row !== null)) writeProgress(soFar());
    return length;
  };
}
/** The rows so far (under --ratio and the like, run() skipped the others: null). */
function soFar() {
  const ran = (/** @type {(Row | null)[]} */ list) => list.filter((row) => row !== null);
  return {
    name: 'verdicts',
    healthyRollouts: HEALTHY,
    regressedRollouts: REGRESSED,
    healthy: ran(rows.healthy),
    regressions: ran(rows.regressions),
    fixedHorizon: [...rows.fixedHorizon],
    ratio: ran(rows.ratio),
    uncapped: ran(rows.uncapped),
    overLimits: ran(rows.overLimits),
    budget: ran(rows.budget),
  };
}
let seed = 1;
for (const [file, rates] of Object.entries(examplePlans)) {
  const plan = loadPlan(path.join(ROOT, 'rollouts', file));
  const arm = profile(rates, plan);
  rows.healthy.push(run(`rollouts/${file} (green = blue)`, simFor(plan, arm, arm), HEALTHY, (seed += 1_000_000)));
}

// The issue's plans: green identical to blue at 150 req/s, and green just under its 5% error limit.
const shortPlan = (errors) => `name: bench
upstream: { api: openai, simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 150, synthetic: { prompts: [hello] } }
stages:
  - { duration: 4s, green_weight: 0.2 }
  - { duration: 4s, green_weight: 0.5 }
  - { duration: 4s, green_weight: 1.0 }
analysis:
  interval: 1s
  min_requests: 20
  thresholds: { error_rate: 0.05 }
  compare_to_blue: { max_error_rate_increase: 0.03 }
# ${errors}
`;
{
  const plan = planFromYaml(shortPlan('same'));
  const arm = { error: 0.03, quality: 0, latencyOver: {}, ttftOver: {} };
  rows.healthy.push(run('green = blue: 2% errors + 1% bad responses, 150 req/s, 3 x 4 s', simFor(plan, arm, arm), HEALTHY, (seed += 1_000_000)));
  const under = { error: 0.045, quality: 0, latencyOver: {}, ttftOver: {} };
  rows.healthy.push(run('just under the limit: green and blue 4.5% errors against 5%', simFor(plan, under, under), HEALTHY, (seed += 1_000_000)));
}

// Regressions, on a plan shaped like the demo (20 req/s, 5 stages of 12 s) whose limits a 2x regression crosses.
const regressionPlan = (rate, seconds) => `name: bench-regressions
upstream: { api: openai, simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: ${rate}, synthetic: { prompts: [hello] } }
stages:
  - { duration: ${seconds}s, green_weight: 0.10 }
  - { duration: ${seconds}s, green_weight: 0.25 }
  - { duration: ${seconds}s, green_weight: 0.50 }
  - { duration: ${seconds}s, green_weight: 0.75 }
  - { duration: ${seconds}s, green_weight: 1.00 }
analysis:
  interval: 1s
  min_requests: 10
  thresholds: { error_rate: 0.03, consecutive_errors: 5, latency_p95: 1200ms }
  compare_to_blue: { max_error_rate_increase: 0.01, max_quality_fail_rate_increase: 0.02 }
  quality: { min_content_length: 10 }
`;
const baseRates = { error: 0.02, quality: 0.02, p50: 300, p95: 900 };
/** @type {[string, Partial<Rates> & { latencyFactor?: number }][]} */
const regressions = [
  ['errors 2x (4%)', { error: 0.04 }],
  ['errors 5x (10%)', { error: 0.1 }],
  ['errors 10x (20%)', { error: 0.2 }],
  ['100% failures', { error: 1 }],
  ['latency 2x', { latencyFactor: 2 }],
  ['quality 3x (6%)', { quality: 0.06 }],
];
for (const [rate, seconds, label] of /** @type {[number, number, string][]} */ ([
  [20, 12, '20 req/s, 5 x 12 s'],
  [100, 60, '100 req/s, 5 x 60 s'],
])) {
  const plan = planFromYaml(regressionPlan(rate, seconds));
  // Latencies drawn (session 33): before, nothing ran at a look, and the rate rules' power was overstated by 5-7
  // points at 100 req/s (bench/tools/rate-power.js), since the engine counts running requests as outcomes unknown.
  const blue = profile(baseRates, plan, 1, true);
  // A green failing every request answers at once (a refused connection, a 500): its row is the streak's.
  const atOnce = profile(baseRates, plan);
  // The long variant is not one of the example plans: half as many healthy rollouts keep the run short.
  rows.healthy.push(run(`regression plan (${label}), green = blue`, simFor(plan, blue, blue), rate === 100 ? REGRESSED : HEALTHY, (seed += 1_000_000)));
  for (const [name, change] of regressions) {
    if (rate === 100 && !name.startsWith('errors 2x') && !name.startsWith('quality')) continue;
    const green = profile({ ...baseRates, ...change }, plan, change.latencyFactor ?? 1, true);
    const sim = change.error === 1 ? simFor(plan, atOnce, profile({ ...baseRates, ...change }, plan)) : simFor(plan, blue, green);
    rows.regressions.push(run(`${name} (${label})`, sim, REGRESSED, (seed += 1_000_000)));
  }
  const alphaCheck = checkAlpha(plan.analysis, plan.stages.length);
  const available = Math.round(rate * seconds * plan.stages.reduce((sum, s) => sum + s.green_weight, 0));
  for (const [name, p1] of /** @type {[string, number][]} */ ([
    ['errors 10x (20%) vs error_rate 3%', 0.2],
    ['errors 2x (4%) vs error_rate 3%', 0.04],
  ])) {
    rows.fixedHorizon.push({
      plan: label,
      name,
      alphaPerCheck: alphaCheck,
      nAtCheckAlpha: fixedHorizonN(0.03, p1, alphaCheck),
      nAtRolloutAlpha: fixedHorizonN(0.03, p1, 1 - plan.analysis.confidence),
      greenRequestsInPlan: available,
    });
  }
}

// The p95 ratio to blue (compare_to_blue.max_latency_p95_ratio: 1.5) on the demo-shaped plan, with the latency
// limit swapped for the ratio: green = blue, and green's latency 2x blue's (p95 900 ms -> 1.8 s).
for (const [rate, seconds, label] of /** @type {[number, number, string][]} */ ([
  [20, 12, '20 req/s, 5 x 12 s'],
  [100, 60, '100 req/s, 5 x 60 s'],
])) {
  const yaml = regressionPlan(rate, seconds)
    .replace('latency_p95: 1200ms', 'latency_p95: 30s')
    .replace('max_quality_fail_rate_increase: 0.02', 'max_quality_fail_rate_increase: 0.02, max_latency_p95_ratio: 1.5');
  const plan = planFromYaml(yaml);
  const blue = profile(baseRates, plan);
  rows.ratio.push(run(`p95 ratio plan (${label}), green = blue`, simFor(plan, blue, blue), HEALTHY, (seed += 1_000_000)));
  const green = profile(baseRates, plan, 2);
  rows.ratio.push(run(`latency 2x vs max_latency_p95_ratio 1.5 (${label})`, simFor(plan, blue, green), REGRESSED, (seed += 1_000_000)));
}
// A shared upstream's hiccup (last, so the seeds of the rows above stay as they were): green = blue at 1% errors,
// both failing 25% for 20 s in stage 4 of 5 x 60 s at 20 req/s. Judged against blue over the rollout so far
// (mostly the calm early stages) rather than the stage's own blue, every one rolled back.
const burstPlan = (rules) => `name: bench-burst
upstream: { api: openai, simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 20, synthetic: { prompts: [hello] } }
stages:
  - { duration: 60s, green_weight: 0.10 }
  - { duration: 60s, green_weight: 0.25 }
  - { duration: 60s, green_weight: 0.50 }
  - { duration: 60s, green_weight: 0.75 }
  - { duration: 60s, green_weight: 1.00 }
analysis:
  interval: 1s
  min_requests: 20
  ${rules}
`;
for (const [name, rules] of [
  ['latency-only plan (built-in guard)', 'thresholds: { latency_p95: 3s }'],
  ['max_error_rate_increase 0.02', 'compare_to_blue: { max_error_rate_increase: 0.02 }'],
]) {
  const plan = planFromYaml(burstPlan(rules));
  const arm = profile({ error: 0.01, quality: 0, p50: 300, p95: 900 }, plan);
  const burst = { fromMs: 190_000, toMs: 210_000, error: 0.25 };
  rows.healthy.push(
    run(`shared burst: both arms 25% errors for 20 s in stage 4, ${name}`, { ...simFor(plan, arm, arm, burst), session11: true }, HEALTHY, (seed += 1_000_000)),
  );
}

// --- session 11 (last, so the seeds above stay): client aborts, a stage just short of 100% green, a drifting blue.
const S11 = envNumber('BENCH_VERDICT_S11_ROLLOUTS', QUICK ? 100 : 1000);
const guardRules = 'thresholds: { latency_p95: 3s }';
const compareRules = 'thresholds: { error_rate: 0.05, latency_p95: 3s, consecutive_errors: 5 }\n  compare_to_blue: { max_error_rate_increase: 0.02 }';
const calm = { error: 0.01, quality: 0, p50: 300, p95: 900 };
// Clients: a tenth impatient (giving up after 0.2-2 s), the rest waiting a minute; or every one giving up at 2 s.
const impatientClients = { impatient: 0.1, impatientMs: [200, 2000], patientMs: 60_000 };
const twoSecondClients = { impatient: 0, impatientMs: [0, 0], patientMs: 2000 };
for (const [name, rules] of [
  ['latency-only plan (built-in guard)', guardRules],
  ['error_rate + max_error_rate_increase 0.02 + latency_p95 + consecutive_errors', compareRules],
]) {
  const plan = planFromYaml(burstPlan(rules));
  const arm = profile(calm, plan);
  const s11 = (sim) => ({ ...sim, session11: true });
  rows.healthy.push(
    run(
      `impatient clients: 10% of both arms' give up within 0.2-2 s, ${name}`,
      s11({ ...simFor(plan, arm, arm), clients: impatientClients }),
      S11,
      (seed += 1_000_000),
    ),
  );
  const hangs = { ...arm, hangs: true };
  rows.regressions.push(
    run(`green never answers, clients give up at 2 s, ${name}`, s11({ ...simFor(plan, arm, hangs), clients: twoSecondClients }), S11, (seed += 1_000_000)),
  );
  const slower = profile(calm, plan, 2);
  rows.regressions.push(
    run(
      `green 2x slower (within latency_p95 3s), 10% impatient clients, ${name}`,
      s11({ ...simFor(plan, arm, slower), clients: impatientClients }),
      S11,
      (seed += 1_000_000),
    ),
  );
  // Blue's (and green's, the same at every moment) error rate drifting from 1% to 7% over the rollout.
  const drift = { from: 0.01, to: 0.07, totalMs: 300_000 };
  rows.healthy.push(
    run(`drifting upstream: both arms 1% -> 7% errors over the rollout, ${name}`, s11({ ...simFor(plan, arm, arm), drift }), S11, (seed += 1_000_000)),
  );
}
// review10's plan: stages at 10%, 50% and 95% green, 60 s each; green failing 6% against blue's 1% from the third.
const nearlyAllPlan = (rate, rules) => `name: bench-95
upstream: { api: openai, simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: ${rate}, synthetic: { prompts: [hello] } }
stages:
  - { duration: 60s, green_weight: 0.10 }
  - { duration: 60s, green_weight: 0.50 }
  - { duration: 60s, green_weight: 0.95 }
analysis:
  interval: 1s
  min_requests: 20
  ${rules}
`;
for (const rate of [20, 100]) {
  for (const [name, rules] of [
    ['built-in guard', guardRules],
    ['max_error_rate_increase 0.02', 'compare_to_blue: { max_error_rate_increase: 0.02 }'],
  ]) {
    const plan = planFromYaml(nearlyAllPlan(rate, rules));
    const arm = profile(calm, plan);
    const s11 = (sim) => ({ ...sim, session11: true });
    rows.healthy.push(run(`10/50/95% green, ${rate} req/s, green = blue, ${name}`, s11(simFor(plan, arm, arm)), S11, (seed += 1_000_000)));
    const change = { arm: 'green', fromMs: 120_000, error: 0.06 };
    rows.regressions.push(
      run(`10/50/95% green, ${rate} req/s, green 6% vs 1% from the 95% stage, ${name}`, s11({ ...simFor(plan, arm, arm), change }), S11, (seed += 1_000_000)),
    );
  }
}

// --- session 12 (last, so the seeds above stay): one sticky client's aborts (src/analysis/aborts.ts). Requests come
// from 5,000 sticky users (a tenth of them impatient, as above), each on the arm its sticky point puts it; one heavy
// client sends 30% of them, sticky on green from the first stage (its point 0.05), and gives up within 0.1-0.6 s.
const dominant = { share: 0.3, point: 0.05, patienceMs: [100, 600] };
for (const [name, rules] of [
  ['latency-only plan (built-in guard)', guardRules],
  ['error_rate + max_error_rate_increase 0.02 + latency_p95 + consecutive_errors', compareRules],
]) {
  const plan = planFromYaml(burstPlan(rules));
  const arm = profile(calm, plan);
  const s12 = (sim) => ({ ...sim, session12: true });
  const users = { ...simFor(plan, arm, arm), clients: impatientClients, users: 5000 };
  rows.healthy.push(run(`impatient sticky users: 10% of 5,000 give up within 0.2-2 s, ${name}`, s12(users), S11, (seed += 1_000_000)));
  const heavy = `dominant sticky impatient client: 30% of requests on green, giving up within 0.1-0.6 s, ${name}`;
  rows.healthy.push(run(heavy, s12({ ...users, dominant }), S11, (seed += 1_000_000)));
  // The same streams judged with every abort counted (session 11's rule): what the cap changes.
  rows.uncapped.push(run(`${heavy} (every abort counted)`, s12({ ...users, dominant, uncapped: true }), S11, seed));
  // A green that hangs, its users all giving up at 2 s: 5,000 of them (a few requests each), or 50 (many each).
  const hangs = { ...arm, hangs: true };
  for (const count of [5000, 50]) {
    rows.regressions.push(
      run(
        `green never answers, ${count === 50 ? 50 : '5,000'} sticky users giving up at 2 s, ${name}`,
        s12({ ...simFor(plan, arm, hangs), clients: twoSecondClients, users: count }),
        S11,
        (seed += 1_000_000),
      ),
    );
  }
}

// --- session 16 (last, so the seeds above stay): low traffic. A stage judges green once green answered
// min_requests (and blue's reference as many, for a plan judging green only against blue); a rollout none of whose
// stages did rolls back on nothing_judged however healthy green is. Arrivals on a schedule, as `bluegreen rollout`
// generates them; `predicted` is validate's figure for the same plan (src/plan/judging-odds.ts).
/** `stages`: [seconds, green_weight] each; by default session 16's 60 s at 25%, 40 s at 50%, lastSeconds at 100%. */
const thinPlan = (
  users,
  rules,
  lastSeconds,
  stages = [
    [60, 0.25],
    [40, 0.5],
    [lastSeconds, 1],
  ],
) => `name: bench-thin
upstream: { api: openai, simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 1, synthetic: { prompts: [hello]${users ? `, users: ${users}` : ''} } }
stages:
${stages.map(([seconds, weight]) => `  - { duration: ${seconds}s, green_weight: ${weight} }`).join('\n')}
analysis:
  interval: 1s
  min_requests: 20
  ${rules}
`;
/** @type {{ name: string, users?: number, rules: string, lastSeconds: number }[]} */
const thinRows = [
  { name: 'error_rate 0.05', rules: 'thresholds: { error_rate: 0.05 }', lastSeconds: 15 },
  { name: 'error_rate 0.05, 40 sticky users', users: 40, rules: 'thresholds: { error_rate: 0.05 }', lastSeconds: 15 },
  { name: 'max_error_rate_increase 0.02 only', rules: 'compare_to_blue: { max_error_rate_increase: 0.02 }', lastSeconds: 15 },
  { name: 'error_rate 0.05', rules: 'thresholds: { error_rate: 0.05 }', lastSeconds: 30 },
];
/**
 * A low-traffic row: `predicted` is validate's odds, `independent` the product of each stage's (session 16's, before the
 * stages shared their sticky users: src/plan/shared-users.ts).
 */
function thinRow(label, plan, users) {
  const arm = profile(calm, plan);
  const sim = { ...simFor(plan, arm, arm), scheduled: true, session16: true, ...(users && { users, seededSplit: true }) };
  const row = run(label, sim, HEALTHY, (seed += 1_000_000));
  if (row) {
    const odds = judgingOdds(plan) ?? [];
    row.predictedNothingJudgedPercent = round(100 * nothingJudgedOdds(odds), 2);
    row.independentStagesPercent = round(100 * odds.reduce((chance, stage) => chance * stage.unjudged, 1), 2);
  }
  rows.healthy.push(row);
}
for (const { name, users, rules, lastSeconds } of thinRows) {
  const label = `low traffic: 1 req/s, 60 s at 25%, 40 s at 50%, ${lastSeconds} s at 100%, min_requests 20, green = blue, ${name}`;
  thinRow(label, planFromYaml(thinPlan(users, rules, lastSeconds)), users);
}

// --- session 17 (last, so the seeds above stay): stages sharing sticky users. A user on green at one weight stays
// there at a higher one, so when green's users are few, every stage is short together; validate's odds now say so.
const errorRate = 'thresholds: { error_rate: 0.05 }';
thinRow('low traffic: the same, error_rate 0.05, 10 sticky users', planFromYaml(thinPlan(10, errorRate, 15)), 10);
for (const users of [40, 10]) {
  const stages = [
    [80, 0.25],
    [50, 0.4],
    [40, 0.5],
  ];
  thinRow(
    `low traffic: 1 req/s, 80 s at 25%, 50 s at 40%, 40 s at 50%, min_requests 20, green = blue, error_rate 0.05, ${users} sticky users`,
    planFromYaml(thinPlan(users, errorRate, 0, stages)),
    users,
  );
}

// --- session 27 (last, so the seeds above stay): answer order. The engine counts a request's outcome when it
// answers; a failure (a 500, a refusal) often answers in ~100 ms while a success takes seconds, so early in a stage
// the answered requests are rich in failures. Each row is run twice on the same seeds: with the requests still running
// counted as outcomes unknown (session 27's rate rules), and on the answered requests alone (as before). The plan is
// the shared-burst rows' (20 req/s, 5 x 60 s at 10/25/50/75/100% green, min_requests 20).
const fastFailure = { p50: 100, p95: 300 };
/** @type {{ name: string, rules: string, blue: number, green: number, greenMs: { p50: number, p95: number }, blueMs: { p50: number, p95: number } }[]} */
const answerOrderRows = [
  {
    name: 'error_rate 0.05, green = blue 4% errors, answers in ~5 s',
    rules: 'thresholds: { error_rate: 0.05 }',
    blue: 0.04,
    green: 0.04,
    blueMs: { p50: 5000, p95: 12_000 },
    greenMs: { p50: 5000, p95: 12_000 },
  },
  {
    name: 'no rules (built-in guard), both 3% errors, green answers in ~15 s to blue ~3 s',
    rules: 'thresholds: {}',
    blue: 0.03,
    green: 0.03,
    blueMs: { p50: 3000, p95: 8000 },
    greenMs: { p50: 15_000, p95: 30_000 },
  },
  {
    name: 'error_rate 0.05, green 30% errors (blue 1%), answers in ~5 s',
    rules: 'thresholds: { error_rate: 0.05 }',
    blue: 0.01,
    green: 0.3,
    blueMs: { p50: 5000, p95: 12_000 },
    greenMs: { p50: 5000, p95: 12_000 },
  },
];
for (const row of answerOrderRows) {
  const plan = planFromYaml(burstPlan(row.rules));
  const arm = (error) => ({ error, quality: 0, latencyOver: {}, ttftOver: {} });
  const sim = {
    ...simFor(plan, arm(row.blue), arm(row.green)),
    answerOrder: { failure: fastFailure, blue: row.blueMs, green: row.greenMs },
    session27: true,
  };
  const list = row.green > row.blue ? rows.regressions : rows.healthy;
  const seedBase = (seed += 1_000_000);
  const count = row.green > row.blue ? REGRESSED : HEALTHY;
  list.push(run(`answer order, failures in ~100 ms: ${row.name}, running requests counted`, sim, count, seedBase));
  list.push(run(`answer order, failures in ~100 ms: ${row.name}, answered only (before session 27)`, { ...sim, answeredOnly: true }, count, seedBase));
}

// --- session 29 (last, so the seeds above stay): the cases the rows above leave out, each healthy one at its limits
// (the worst case for a false rollback) unless it says otherwise. Run with --session29.
const S29 = envNumber('BENCH_VERDICT_S29_ROLLOUTS', QUICK ? 200 : 1000);
const s29 = (sim) => ({ ...sim, session29: true });
/** `stages`: [seconds, green_weight] each. */
const plan29 = (rate, stages, rules, extra = '') => `name: bench-29
upstream: { api: openai, simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: ${rate}, synthetic: { prompts: [hello] }${extra} }
stages:
${stages.map(([seconds, weight]) => `  - { duration: ${seconds}s, green_weight: ${weight} }`).join('\n')}
analysis:
  interval: 1s
  min_requests: 10
  ${rules}
`;
const fiveMinutes = [
  [60, 0.1],
  [60, 0.25],
  [60, 0.5],
  [60, 0.75],
  [60, 1],
];
/** An arm failing `error` of its requests with `over` of them over each latency / ttft limit. */
const atLimits = (error, over = {}, ttftOver = {}) => ({ error, quality: 0, latencyOver: over, ttftOver });
{
  // Many short stages: 20 of 15 s at 20 req/s (5%, 10%, ... 100% green: 15 to 300 green requests a stage), three
  // rules each at its limit (green = blue 5% errors, 5% of requests over the p95 limit). At confidence 0.99 and
  // 0.8 (each check's share then 0.2 / 60: enough rollouts see a breach if the budget does not hold).
  const stages = Array.from({ length: 20 }, (_, i) => [15, (i + 1) / 20]);
  const rules = 'thresholds: { error_rate: 0.05, latency_p95: 1200ms }\n  compare_to_blue: { max_error_rate_increase: 0.02 }';
  for (const confidence of [0.99, 0.8]) {
    const plan = planFromYaml(plan29(20, stages, `confidence: ${confidence}\n  ${rules}`));
    const arm = atLimits(0.05, { 1200: 0.05 });
    (confidence === 0.99 ? rows.healthy : rows.budget).push(
      run(
        `many short stages: 20 x 15 s at 20 req/s, green = blue at its limits, confidence ${confidence}`,
        s29(simFor(plan, arm, arm)),
        S29,
        (seed += 1_000_000),
      ),
    );
  }
  // How much of the budget the test spends: one rule, one 10-minute stage at 100% green, 20 req/s, green exactly at
  // its limit, at confidence 0.8 (the budget 20%, all on this one check).
  {
    const plan = planFromYaml(plan29(20, [[600, 1]], 'confidence: 0.8\n  thresholds: { error_rate: 0.05 }'));
    const arm = atLimits(0.05);
    rows.budget.push(
      run(
        'one check spending all of confidence 0.8: error_rate 0.05, green at 5%, one 600 s stage at 20 req/s',
        s29(simFor(plan, arm, arm)),
        S29,
        (seed += 1_000_000),
      ),
    );
  }
  // Very low rates: both arms fail 0.01% of requests, 100 req/s, five 60 s stages; the absolute limit at that rate.
  for (const [name, rules] of [
    ['error_rate 0.0001 (green at its limit)', 'thresholds: { error_rate: 0.0001 }'],
    ['latency-only plan (built-in guard)', 'thresholds: { latency_p95: 30s }'],
    ['max_error_rate_increase 0.001', 'compare_to_blue: { max_error_rate_increase: 0.001 }'],
  ]) {
    const plan = planFromYaml(plan29(100, fiveMinutes, rules));
    const arm = atLimits(0.0001);
    rows.healthy.push(run(`very low rate: both arms 0.01% errors, 100 req/s, 5 x 60 s, ${name}`, s29(simFor(plan, arm, arm)), S29, (seed += 1_000_000)));
    // What the same plan catches: green failing 0.5% (50x blue).
    rows.regressions.push(
      run(`very low rate: green 0.5% vs blue 0.01% errors, 100 req/s, 5 x 60 s, ${name}`, s29(simFor(plan, arm, atLimits(0.005))), S29, (seed += 1_000_000)),
    );
  }
  // A 30 s outage (every request fails) on an upstream both arms share, in stage 2 (25% green) or 5 (100% green),
  // at 20 req/s over five 60 s stages, green = blue 1% errors otherwise; and the same outage on green alone.
  for (const [name, rules] of [
    ['latency-only plan (built-in guard)', guardRules],
    ['max_error_rate_increase 0.02', 'compare_to_blue: { max_error_rate_increase: 0.02 }'],
    ['error_rate 0.05', 'thresholds: { error_rate: 0.05 }'],
  ]) {
    const plan = planFromYaml(plan29(20, fiveMinutes, rules));
    const arm = atLimits(0.01);
    for (const [where, fromMs] of /** @type {[string, number][]} */ ([
      ['stage 2 (25% green)', 75_000],
      ['stage 5 (100% green)', 255_000],
    ])) {
      const outage = { fromMs, toMs: fromMs + 30_000, error: 1 };
      rows.overLimits.push(
        run(`shared 30 s outage in ${where}, green = blue 1% otherwise, ${name}`, s29(simFor(plan, arm, arm, outage)), S29, (seed += 1_000_000)),
      );
    }
    const greenOutage = { fromMs: 75_000, toMs: 105_000, error: 1, arm: 'green' };
    rows.regressions.push(run(`green alone down for 30 s in stage 2 (25% green), ${name}`, s29(simFor(plan, arm, arm, greenOutage)), S29, (seed += 1_000_000)));
  }
  // Clustered failures: 2% on average against error_rate 0.05, but as 10 s episodes at 20% every 100 s (none
  // between), on both arms or on green alone (blue 2% throughout).
  for (const [name, rules] of [
    ['error_rate 0.05', 'thresholds: { error_rate: 0.05 }'],
    ['max_error_rate_increase 0.02', 'compare_to_blue: { max_error_rate_increase: 0.02 }'],
  ]) {
    const plan = planFromYaml(plan29(20, fiveMinutes, rules));
    const episodes = { periodMs: 100_000, lengthMs: 10_000, error: 0.2 };
    rows.overLimits.push(
      run(
        `clustered failures: both arms 2% on average as 10 s at 20% every 100 s, ${name}`,
        s29({ ...simFor(plan, atLimits(0), atLimits(0)), episodes }),
        S29,
        (seed += 1_000_000),
      ),
    );
    rows.overLimits.push(
      run(
        `clustered failures: green alone 2% on average as 10 s at 20% every 100 s (blue 2% throughout), ${name}`,
        s29({ ...simFor(plan, atLimits(0.02), atLimits(0)), episodes: { ...episodes, arm: 'green' } }),
        S29,
        (seed += 1_000_000),
      ),
    );
  }
  // Heavy-tailed latency: Pareto with tail index 1.5 (infinite variance, no cap; p50 300 ms, p95 about 3.2 s) on
  // both arms, judged by the p95 ratio (1.5) on the regression plan's shape; and green's latencies twice blue's.
  for (const [rate, seconds, label] of /** @type {[number, number, string][]} */ ([
    [20, 12, '20 req/s, 5 x 12 s'],
    [100, 60, '100 req/s, 5 x 60 s'],
  ])) {
    const yaml = regressionPlan(rate, seconds)
      .replace('latency_p95: 1200ms', 'latency_p95: 600s')
      .replace('max_quality_fail_rate_increase: 0.02', 'max_quality_fail_rate_increase: 0.02, max_latency_p95_ratio: 1.5');
    const plan = planFromYaml(yaml);
    const pareto = (factor) => {
      const arm = profile(baseRates, plan, factor);
      return { ...arm, latency: { ...arm.latency, tail: 1.5 } };
    };
    rows.ratio.push(run(`heavy tail (Pareto 1.5): p95 ratio plan (${label}), green = blue`, s29(simFor(plan, pareto(1), pareto(1))), S29, (seed += 1_000_000)));
    rows.ratio.push(
      run(`heavy tail (Pareto 1.5): latency 2x vs max_latency_p95_ratio 1.5 (${label})`, s29(simFor(plan, pareto(1), pareto(2))), S29, (seed += 1_000_000)),
    );
  }
  // Mixed streamed and non-streamed requests: half streamed, ttft_p95 at its limit (5% of streamed first tokens over
  // it) beside error_rate 0.05 and latency_p95 at theirs.
  {
    const plan = planFromYaml(plan29(20, fiveMinutes, 'thresholds: { error_rate: 0.05, latency_p95: 3s, ttft_p95: 1s }', ', stream: 0.5'));
    const arm = atLimits(0.05, { 3000: 0.05 }, { 1000: 0.05 });
    rows.healthy.push(
      run('half the requests streamed, green = blue at every limit (error_rate, latency_p95, ttft_p95)', s29(simFor(plan, arm, arm)), S29, (seed += 1_000_000)),
    );
  }
  // Answer order with heavy-tailed successes (last, so the seeds above stay): failures answer in ~100 ms, successes
  // after a Pareto latency (tail index 1.5, median 5 s, no cap: one in 100 takes over a minute), so many requests
  // stay running, their outcomes unknown.
  for (const [name, green] of /** @type {[string, number][]} */ ([
    ['green = blue 4% errors', 0.04],
    ['green 30% errors (blue 4%)', 0.3],
  ])) {
    const plan = planFromYaml(burstPlan('thresholds: { error_rate: 0.05 }'));
    const arm = (error) => ({ error, quality: 0, latencyOver: {}, ttftOver: {} });
    const pareto = { p50: 5000, tail: 1.5 };
    const sim = { ...simFor(plan, arm(0.04), arm(green)), answerOrder: { failure: fastFailure, blue: pareto, green: pareto } };
    (green > 0.04 ? rows.regressions : rows.healthy).push(
      run(`answer order, failures in ~100 ms, successes Pareto 1.5 (median 5 s): error_rate 0.05, ${name}`, s29(sim), S29, (seed += 1_000_000)),
    );
  }
}

// Session 33 (last, so the seeds above stay): a green = blue until the stage at 75% green, failing 4% from its start
// against error_rate 0.03, on the 100 req/s regression plan (latencies drawn): judged since each stage began,
// error_rate sees stages 4 and 5 together (src/analysis/since-stage.ts).
{
  const plan = planFromYaml(regressionPlan(100, 60));
  const blue = profile(baseRates, plan, 1, true);
  const sim = { ...simFor(plan, blue, blue), change: { arm: 'green', fromMs: 3 * 60_000, error: 0.04 } };
  rows.regressions.push(run('errors 2x (4%) from the 75% stage on (100 req/s, 5 x 60 s)', sim, REGRESSED, (seed += 1_000_000)));
}

const results = soFar();

const ten = results.regressions.find((r) => r.name.startsWith('errors 10x'));
const fh = results.fixedHorizon.find((r) => r.name.startsWith('errors 10x'));
const hundred = results.regressions.find((r) => r.name.startsWith('100%'));
const healthyRatio = results.ratio.filter((r) => r.name.includes('green = blue'));
const targets = {
  // The drifting-upstream rows break the assumption the target rests on (blue's rates not moving): a known limit, reported
  // apart; so are the low-traffic rows, rolled back by policy (nothing_judged, which validate foretells), not by a test.
  falseRollbacksAtMost1Percent: [...results.healthy, ...healthyRatio]
    .filter((r) => !r.name.startsWith('drifting') && !r.name.startsWith('low traffic') && !r.name.endsWith('(before session 27)'))
    .every((r) => r.new.rolledBackPercent <= 1),
  falseRollbacksWithinConfidence80: results.budget.every((r) => r.new.rolledBackPercent <= 20),
  ...(RATIO_ONLY
    ? {}
    : {
        tenXCaughtAtLeast99Percent: ten !== undefined && ten.new.rolledBackPercent >= 99,
        tenXMedianAtMostFixedHorizon: ten !== undefined && fh?.nAtCheckAlpha != null && ten.new.greenRequests.median <= fh.nAtCheckAlpha,
        hundredPercentWithinConsecutiveErrors: hundred !== undefined && (hundred.new.greenFailures.p95 ?? Infinity) <= 5,
      }),
};
writeResult({ ...results, targets, met: Object.values(targets).every(Boolean) });
