// compare_to_blue.max_latency_p95_ratio: green's p95 over blue's, judged with one-sided anytime-valid bounds per
// arm (quantile.ts), each at half the check's share of the false-rollback budget, as the other comparisons. The
// ratio's lower bound, green.lower / blue.upper, is above the true ratio only if green's lower bound is above
// green's p95 or blue's upper below blue's: at most alpha / 2 + alpha / 2 (Bonferroni; sequential.ts,
// differenceBounds, argues the same for rates). Its upper bound, green.upper / blue.lower, holds likewise. So a
// breach (the lower bound above the limit) is a false rollback in at most the check's alpha. Green is the
// stage's; blue is the stage's too, or the rollout's so far in a stage at 100% green (evaluate.ts, blueReference).
// Blue's upper bound is judged sent-before when the engine gives blue's send times for that reference
// (quantile.ts; reference.ts, blueSentReference): generated traffic's (src/engine/arm-sends.ts) or the live proxies'
// (src/live/live-sent.ts); on the conservative count alone when not (see those). Blue's lower bound (the "ok"
// side) counts blue's running requests at their ages where those send times give them exactly (generated traffic:
// quantile.ts, running ages), at the lowest latency otherwise. Green's running ages raise only green's lower bound,
// the breach side's. Green's upper bound (the ok side's other half) is judged sent-before where green's send times
// cover its sample in the stage, the engine's (generated traffic, src/engine/arm-sends.ts) or the live proxies'
// (since session 35, src/live/live-sent.ts: green's split attempts and mirror copies, the sample judged as green's);
// otherwise it counts green's running requests as slower than anything.
import { formatFactor, formatMs } from '../core/format.js';
import { bucketTotal } from '../metrics/buckets.js';
import type { ArmStats } from '../metrics/types.js';
import { formatAtLeast } from './format.js';
import { clientAborts } from './aborts.js';
import { quantileInterval, type ArmLatencies, type QuantileInterval, type SentBefore } from './quantile.js';
import { unanswered, type SequentialContext } from './rate-rules.js';
import { exceeds, proximity, type Judged } from './rules.js';
import type { CheckResult, LatencyBounds, RateEvidence } from './types.js';

const P95 = 0.95;

/**
 * @param greenRunningAgesMs ages of the stage's green requests still running, when the engine watches them:
 *   they count at those ages towards green's lower bound (the breach side), which only grows as they run on.
 * @param blueSent blue's send times for the same reference, when the engine watches them: blue's upper bound is
 *   then also judged sent-before (quantile.ts), with none of blue's running requests counted as slower than anything,
 *   and its lower bound counts them at their ages where the send times give them (runningAgesAtMostMs).
 * @param greenSent green's send times in the stage, when the engine generates its requests or the live proxies
 *   report them: green's upper bound is then judged sent-before too (the ok side only).
 */
export function compareLatency(
  ctx: SequentialContext,
  ratio: number,
  greenRunningAgesMs?: readonly number[],
  blueSent?: SentBefore,
  greenSent?: SentBefore,
): Judged {
  const greenArm = ctx.green;
  const blueArm = ctx.blueReference;
  const greenSample = bucketTotal(greenArm.latencyBuckets);
  const blueSample = bucketTotal(blueArm.latencyBuckets);
  const rule = 'compare_to_blue.max_latency_p95_ratio';
  const check: CheckResult = { rule, status: 'waiting', figure: null, limit: ratio, unit: 'factor', sample: greenSample, blueSample, proximity: null };
  if (greenSample === 0 || blueSample === 0) return { check };

  const armAlpha = ctx.alpha / 2;
  const green = quantileInterval(
    greenSent ? { ...latencies(greenArm, greenRunningAgesMs), sent: greenSent } : latencies(greenArm, greenRunningAgesMs),
    P95,
    armAlpha,
  );
  const blue = quantileInterval(blueSent ? { ...latencies(blueArm), sent: blueSent } : latencies(blueArm), P95, armAlpha);
  const figure = (green.estimate as number) / (blue.estimate as number);
  const evidence: RateEvidence = {
    estimate: figure,
    lower: green.lower / blue.upper,
    upper: green.upper / blue.lower,
    limit: ratio,
    confidence: 1 - ctx.alpha,
    quantiles: { green: bounds(green), blue: bounds(blue) },
  };
  check.figure = figure;
  check.evidence = evidence;
  if (greenSample < ctx.minRequests || blueSample < ctx.minRequests) return { check };
  check.status = exceeds(green.lower, ratio * blue.upper) ? 'breach' : green.upper <= ratio * blue.lower ? 'ok' : 'undecided';
  check.proximity = proximity(figure, ratio);
  if (check.status !== 'breach') return { check };
  const running = greenRunningAgesMs?.length ? `, ${greenRunningAgesMs.length} still running` : '';
  const message =
    `green latency_p95 ${formatMs(green.estimate)} (at least ${formatMs(green.lower)}) > ${formatFactor(ratio)} blue's ${formatMs(blue.estimate)} ` +
    `(at most ${formatMs(blue.upper)}): ${formatFactor(figure)} ${formatAtLeast(evidence, formatFactor)} ` +
    `(green ${greenSample}${running}, blue ${blueSample} requests)${ctx.where}`;
  return { check, message };
}

function latencies(arm: ArmStats, runningAgesMs?: readonly number[]): ArmLatencies {
  const known: ArmLatencies = { buckets: arm.latencyBuckets, running: unanswered(arm), aborted: clientAborts(arm) };
  return runningAgesMs ? { ...known, runningAgesMs } : known;
}

function bounds(interval: QuantileInterval): LatencyBounds {
  return { estimate: interval.estimate as number, lower: interval.lower, upper: interval.upper };
}
