// The p95 ratio's sent-before bound on blue (src/analysis/quantile.ts): blue's upper bound at v judged on the
// requests sent at least v before the look, none of its running requests counted as slower than anything. Known
// values on hand-made samples, when the figures are not used, and seeded rollouts of a stage: the bound holds as
// often as it must, a green at or under the limit is not rolled back, and a green twice as slow is caught earlier.
// Green's upper bound (the ok side) judged sent-before likewise: known values, its coverage, ok never later.
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { blueSentReference, fewestOverAbove, mostOverBelow, priorAround, quantileInterval, type SentBefore } from '../../src/analysis/index.js';
import { compareLatency } from '../../src/analysis/latency-ratio.js';
import { BucketCounter, bucketLowerMs, bucketOf, bucketUpperMs, HIGHEST_MS } from '../../src/metrics/index.js';
import { emptyArmStats, type ArmStats } from '../../src/metrics/types.js';
import { sampleLognormal } from '../../src/sim/lognormal.js';

const prior = priorAround(0.05);

function bucketsOf(values: readonly number[]) {
  const counter = new BucketCounter();
  for (const value of values) counter.record(value);
  return counter.snapshot();
}

/** Send times (ms before the look) of a sample: sentAtLeast counts those sent at least ageMs before it. */
function sentBefore(sentAgoMs: readonly number[], runningAgesMs: readonly number[]): SentBefore {
  return { requests: sentAgoMs.length, runningAgesMs, sentAtLeast: (ageMs) => sentAgoMs.filter((ago) => ago >= ageMs).length };
}

describe('sent-before upper bound, known values', () => {
  // 1000 answered latencies 1..1000 ms, all sent 2 s before the look, and 30 requests sent 50 ms ago, running.
  const values = Array.from({ length: 1000 }, (_, i) => i + 1);
  const alpha = 0.001;
  const answeredAgo = new Array<number>(1000).fill(2_000);

  it('counts no running request as slower than anything: the bound of the answered requests alone', () => {
    const sent = sentBefore([...answeredAgo, ...new Array<number>(30).fill(50)], new Array<number>(30).fill(50));
    const today = quantileInterval({ buckets: bucketsOf(values), running: 30 }, 0.95, alpha);
    const known = quantileInterval({ buckets: bucketsOf(values), running: 30, sent }, 0.95, alpha);
    // Counted over every value, the 30 running are more than the 25 of 1030 the bound allows over it: no bound.
    expect(mostOverBelow(1030, 0.05, alpha, prior)).toBe(25);
    expect(today.upper).toBe(HIGHEST_MS);
    // 10 running: the value with 25 - 10 answered over it.
    const ten = quantileInterval({ buckets: bucketsOf(values), running: 10 }, 0.95, alpha);
    expect(ten.upper).toBeCloseTo(bucketUpperMs(bucketOf(1000 - (mostOverBelow(1010, 0.05, alpha, prior) - 10))), 9);
    // Sent-before: at any v over 50 ms the prefix is the 1000 answered, the running ones not in it and not over v.
    const most = mostOverBelow(1000, 0.05, alpha, prior);
    expect(known.upper).toBeCloseTo(bucketUpperMs(bucketOf(1000 - most)), 9);
    expect(known.upper).toBeLessThan(ten.upper);
    expect(known.upper).toBeGreaterThan(950);
    // The lower bound and the estimate do not change.
    expect(known.lower).toBe(today.lower);
    expect(known.estimate).toBe(today.estimate);
  });

  it('counts a running request over every v below its age, and the prefix at each v', () => {
    // One of the running requests has run 5 s: over every v it could bound, in every prefix.
    const sent = sentBefore([...answeredAgo, 5_000, ...new Array<number>(29).fill(50)], [5_000, ...new Array<number>(29).fill(50)]);
    const known = quantileInterval({ buckets: bucketsOf(values), running: 30, sent }, 0.95, alpha);
    expect(known.upper).toBeCloseTo(bucketUpperMs(bucketOf(1000 - (mostOverBelow(1001, 0.05, alpha, prior) - 1))), 9);
    // The answered sent 500 ms ago instead: a v over 500 ms judges only those sent before (none), so the bound is
    // today's (the whole sample with the running counted over).
    const recent = sentBefore([...new Array<number>(1000).fill(500), ...new Array<number>(30).fill(50)], new Array<number>(30).fill(50));
    const late = quantileInterval({ buckets: bucketsOf(values), running: 30, sent: recent }, 0.95, alpha);
    const today = quantileInterval({ buckets: bucketsOf(values), running: 30 }, 0.95, alpha);
    expect(late.upper).toBe(today.upper);
  });

  it('counts client aborts over every v, as the conservative count does', () => {
    const sent = sentBefore(answeredAgo, []);
    const known = quantileInterval({ buckets: bucketsOf(values), running: 0, aborted: 10, sent }, 0.95, alpha);
    expect(known.upper).toBeCloseTo(bucketUpperMs(bucketOf(1000 - (mostOverBelow(1000, 0.05, alpha, prior) - 10))), 9);
  });

  it('is not used when the send times do not cover the whole sample (live traffic, a crash carried over)', () => {
    const today = quantileInterval({ buckets: bucketsOf(values), running: 30 }, 0.95, alpha);
    // 30 running, but the watch knows of 29 (one was lost at a crash): the conservative count alone.
    const short = sentBefore([...answeredAgo, ...new Array<number>(29).fill(50)], new Array<number>(29).fill(50));
    expect(quantileInterval({ buckets: bucketsOf(values), running: 30, sent: short }, 0.95, alpha).upper).toBe(today.upper);
    // No send recorded at all (a proxy's results): the same.
    expect(quantileInterval({ buckets: bucketsOf(values), running: 30, sent: sentBefore([], []) }, 0.95, alpha).upper).toBe(today.upper);
  });

  it('adds up the stages so far for blue over the rollout, and only when every stage is known', () => {
    const one = sentBefore([300, 200], [200]);
    const two = sentBefore([100], []);
    const rollout = blueSentReference({ stageIndex: 1, blue: emptyArmStats(), greenWeight: 1, blueSent: [one, two] });
    expect(rollout?.requests).toBe(3);
    expect(rollout?.runningAgesMs).toEqual([200]);
    expect(rollout?.sentAtLeast(150)).toBe(2);
    expect(blueSentReference({ stageIndex: 1, blue: emptyArmStats(), greenWeight: 1, blueSent: [undefined, two] })).toBeUndefined();
    // Below 100% green with enough blue planned: the stage's own.
    expect(blueSentReference({ stageIndex: 1, blue: emptyArmStats(), greenWeight: 0.5, plannedBlue: [500, 500], blueSent: [one, two] })).toBe(two);
  });
});

describe("blue's running ages for its lower bound (session 34), known values", () => {
  // 1000 answered latencies 1..1000 ms sent 3 s before the look, and 30 requests sent 2 s ago, still running.
  const values = Array.from({ length: 1000 }, (_, i) => i + 1);
  const alpha = 0.001;
  const sentAgo = [...new Array<number>(1000).fill(3_000), ...new Array<number>(30).fill(2_000)];
  const running = new Array<number>(30).fill(2_000);
  const withAges = sentBefore(sentAgo, running);
  const today = quantileInterval({ buckets: bucketsOf(values), running: 30 }, 0.95, alpha);

  it('counts each running request at its age: the 30 are at or over every answered value', () => {
    const known = quantileInterval({ buckets: bucketsOf(values), running: 30, sent: { ...withAges, runningAgesAtMostMs: running } }, 0.95, alpha);
    const fewest = fewestOverAbove(1030, 0.05, alpha, prior);
    // Today the running count at the lowest value: the fewest-th largest answered value's bucket.
    expect(today.lower).toBeCloseTo(bucketLowerMs(bucketOf(1001 - fewest)), 9);
    // At their ages, 30 of those needed are the running ones: 30 ranks higher.
    expect(known.lower).toBeCloseTo(bucketLowerMs(bucketOf(1001 - (fewest - 30))), 9);
    expect(known.lower).toBeGreaterThan(today.lower);
    // The same as green's running ages give (the lower edge counts them alike), and the upper bound is not moved.
    expect(known.lower).toBe(quantileInterval({ buckets: bucketsOf(values), running: 30, runningAgesMs: running }, 0.95, alpha).lower);
    expect(known.upper).toBe(quantileInterval({ buckets: bucketsOf(values), running: 30, sent: withAges }, 0.95, alpha).upper);
  });

  it('keeps the lowest value without exact ages (a live proxy rounds them up) or when the send times do not cover the sample', () => {
    expect(quantileInterval({ buckets: bucketsOf(values), running: 30, sent: withAges }, 0.95, alpha).lower).toBe(today.lower);
    // 31 running, the send times know of 30 (one lost at a crash): their ages are not the sample's.
    const short = { ...withAges, runningAgesAtMostMs: running };
    expect(quantileInterval({ buckets: bucketsOf(values), running: 31, sent: short }, 0.95, alpha).lower).toBe(
      quantileInterval({ buckets: bucketsOf(values), running: 31 }, 0.95, alpha).lower,
    );
  });

  it("adds up the stages' ages for blue over the rollout; a stage without them leaves its own at the lowest value", () => {
    const one = { ...sentBefore([300, 200], [200]), runningAgesAtMostMs: [200] };
    const two = { ...sentBefore([100, 50], [100, 50]), runningAgesAtMostMs: [100, 50] };
    expect(blueSentReference({ stageIndex: 1, blue: emptyArmStats(), greenWeight: 1, blueSent: [one, two] })?.runningAgesAtMostMs).toEqual([200, 100, 50]);
    const live = sentBefore([100, 50], [100, 50]);
    expect(blueSentReference({ stageIndex: 1, blue: emptyArmStats(), greenWeight: 1, blueSent: [one, live] })?.runningAgesAtMostMs).toEqual([200]);
  });
});

// --- seeded stages ---------------------------------------------------------------------------------------------

const RATE = 100;
const STAGE_MS = 60_000;
const WEIGHT = 0.5;
const BLUE = { p50: 300, p95: 900 };

interface Request {
  at: number;
  ms: number;
}

/** One arm's view as the engine gives it at each look: answered in buckets, running with their ages, send times. */
class ArmAtLooks {
  private readonly counter = new BucketCounter();
  private pending: Request[] = [];
  private readonly sentAt: number[] = [];

  send(request: Request): void {
    this.pending.push(request);
    this.sentAt.push(request.at);
  }

  look(at: number): { stats: ArmStats; ages: number[]; sent: SentBefore } {
    this.pending = this.pending.filter((request) => (request.at + request.ms <= at ? (this.counter.record(request.ms), false) : true));
    const buckets = this.counter.snapshot();
    const done = this.sentAt.length - this.pending.length;
    const ages = this.pending.map((request) => at - request.at);
    const sentAt = this.sentAt;
    const sent: SentBefore = { requests: sentAt.length, runningAgesMs: ages, runningAgesAtMostMs: ages, sentAtLeast: (ageMs) => countUpTo(sentAt, at - ageMs) };
    return { stats: { ...emptyArmStats(), requests: done, successes: done, inFlight: this.pending.length, latencyBuckets: buckets }, ages, sent };
  }
}

/** Entries of a sorted list at or below `value`. */
function countUpTo(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One stage at 50% green (Poisson at 100 req/s for 60 s, log-normal latencies, green `multiple` times blue), looked
 * at once a second: each look's second, both arms as the rule sees them then, and the rule's context.
 */
function* stageLooks(seed: number, multiple: number, alpha: number) {
  const rng = createRandom(seed);
  const arms = { blue: new ArmAtLooks(), green: new ArmAtLooks() };
  let next = -Math.log(1 - rng()) * (1000 / RATE);
  for (let at = 1000; at <= STAGE_MS; at += 1000) {
    for (; next < at; next += -Math.log(1 - rng()) * (1000 / RATE)) {
      const green = rng() < WEIGHT;
      const f = green ? multiple : 1;
      (green ? arms.green : arms.blue).send({ at: next, ms: sampleLognormal(rng, BLUE.p50 * f, BLUE.p95 * f) });
    }
    const green = arms.green.look(at);
    const blue = arms.blue.look(at);
    yield { second: at / 1000, green, blue, ctx: { green: green.stats, blue: blue.stats, blueReference: blue.stats, alpha, minRequests: 10, where: '' } };
  }
}

/**
 * The second of the first breach with and without blue's send times (undefined: none), and whether blue's
 * sent-before upper bound ever fell below its true p95.
 */
function stage(seed: number, multiple: number, alpha: number): { sentBefore?: number; conservative?: number; blueMissed: boolean } {
  const out: { sentBefore?: number; conservative?: number; blueMissed: boolean } = { blueMissed: false };
  for (const { second, green, blue, ctx } of stageLooks(seed, multiple, alpha)) {
    if (out.sentBefore === undefined && compareLatency(ctx, 1.5, green.ages, blue.sent).check.status === 'breach') out.sentBefore = second;
    if (out.conservative === undefined && compareLatency(ctx, 1.5, green.ages).check.status === 'breach') out.conservative = second;
    const bound = quantileInterval({ buckets: blue.stats.latencyBuckets, running: blue.stats.inFlight, sent: blue.sent }, 0.95, alpha / 2);
    if (bound.upper < BLUE.p95) out.blueMissed = true;
  }
  return out;
}

describe('sent-before, seeded stages', () => {
  it("holds blue's true p95 at every look in at least 1 - alpha of stages, running requests and all", () => {
    // A large alpha so that a bound too low would show: 0.2 a check is 0.1 on blue's side.
    const stages = Array.from({ length: 60 }, (_, s) => stage(33_000 + s, 1, 0.2));
    expect(stages.filter((s) => s.blueMissed).length / stages.length).toBeLessThanOrEqual(0.1);
  });

  it('rolls back no green at 1x or at the 1.5x limit beyond the check alpha, and catches 2x earlier', () => {
    const alpha = 0.0004;
    for (const multiple of [1, 1.5]) {
      const stages = Array.from({ length: 40 }, (_, s) => stage(34_000 + s, multiple, alpha));
      expect(stages.filter((s) => s.sentBefore !== undefined).length, `${multiple}x`).toBe(0);
    }
    const slow = Array.from({ length: 40 }, (_, s) => stage(35_000 + s, 2, alpha));
    const at = (s: number | undefined) => s ?? Infinity;
    // Never later (its bound is the lower of the two), and earlier in most stages.
    for (const s of slow) expect(at(s.sentBefore)).toBeLessThanOrEqual(at(s.conservative));
    expect(slow.filter((s) => at(s.sentBefore) < at(s.conservative)).length).toBeGreaterThan(slow.length / 2);
    expect(slow.filter((s) => s.sentBefore !== undefined).length).toBeGreaterThan(slow.filter((s) => s.conservative !== undefined).length);
  });
});

/**
 * The same stage read on the ok side: the second of the first "ok" with blue's running ages in its lower bound and
 * without them (the send times without ages: undefined, none), and whether blue's lower bound ever rose above its true
 * p95.
 */
function okStage(seed: number, multiple: number, alpha: number): { withAges?: number; without?: number; blueOver: boolean } {
  const out: { withAges?: number; without?: number; blueOver: boolean } = { blueOver: false };
  for (const { second, green, blue, ctx } of stageLooks(seed, multiple, alpha)) {
    const { runningAgesAtMostMs, ...noAges } = blue.sent;
    expect(runningAgesAtMostMs).toBe(blue.ages);
    if (out.withAges === undefined && compareLatency(ctx, 1.5, green.ages, blue.sent).check.status === 'ok') out.withAges = second;
    if (out.without === undefined && compareLatency(ctx, 1.5, green.ages, noAges).check.status === 'ok') out.without = second;
    const bound = quantileInterval({ buckets: blue.stats.latencyBuckets, running: blue.stats.inFlight, sent: blue.sent }, 0.95, alpha / 2);
    if (bound.lower > BLUE.p95) out.blueOver = true;
  }
  return out;
}

describe("blue's running ages for its lower bound (session 34), seeded stages", () => {
  it("holds blue's lower bound under its true p95 at every look in at least 1 - alpha of stages", () => {
    // A large alpha so that a bound too high would show: 0.2 a check is 0.1 on blue's side.
    const stages = Array.from({ length: 60 }, (_, s) => okStage(36_000 + s, 1, 0.2));
    expect(stages.filter((s) => s.blueOver).length / stages.length).toBeLessThanOrEqual(0.1);
  });

  it('reads no green over the limit (1.6x) as ok beyond alpha, and a green = blue ok earlier than without the ages', () => {
    const over = Array.from({ length: 60 }, (_, s) => okStage(37_000 + s, 1.6, 0.2));
    expect(over.filter((s) => s.withAges !== undefined).length / over.length).toBeLessThanOrEqual(0.2);
    const alpha = 0.0004;
    const same = Array.from({ length: 30 }, (_, s) => okStage(38_000 + s, 1, alpha));
    const at = (s: number | undefined) => s ?? Infinity;
    // Never later (its lower bound is at least today's), and earlier in some: green's upper bound, which counts its
    // running requests as slower than anything, is most of the wait (8 of these 30 earlier: 7 by 1-9 s, one ok only so).
    for (const s of same) expect(at(s.withAges)).toBeLessThanOrEqual(at(s.without));
    expect(same.filter((s) => at(s.withAges) < at(s.without)).length).toBeGreaterThan(same.length / 5);
    expect(same.filter((s) => s.withAges !== undefined).length).toBeGreaterThan(same.filter((s) => s.without !== undefined).length);
  });
});

describe("green's upper bound sent-before (the ratio's ok side), known values", () => {
  // Green: 1000 answered latencies 1..1000 ms sent 2 s before the look, 30 sent 50 ms ago still running. Blue: the same
  // 1000 answered (none running), its send times known. Check alpha 0.002: 0.001 an arm.
  const values = Array.from({ length: 1000 }, (_, i) => i + 1);
  const alpha = 0.002;
  const running = new Array<number>(30).fill(50);
  const greenSent = sentBefore([...new Array<number>(1000).fill(2_000), ...running], running);
  const blueSent = sentBefore(new Array<number>(1000).fill(2_000), []);
  const stats = (inFlight: number): ArmStats => ({ ...emptyArmStats(), requests: 1000, successes: 1000, inFlight, latencyBuckets: bucketsOf(values) });
  const ctx = { green: stats(30), blue: stats(0), blueReference: stats(0), alpha, minRequests: 10, where: '' };

  it("judges green's upper bound on the requests sent at least v before, not its 30 running as slower than anything", () => {
    const today = compareLatency(ctx, 1.5, running, blueSent);
    const known = compareLatency(ctx, 1.5, running, blueSent, greenSent);
    // Counted over every value, the 30 running are more than the 25 of 1030 allowed over it: no bound, no ok.
    expect(mostOverBelow(1030, 0.05, alpha / 2, prior)).toBe(25);
    expect(today.check.evidence?.quantiles?.green.upper).toBe(HIGHEST_MS);
    expect(today.check.status).toBe('undecided');
    // Sent-before: the prefix at any v over 50 ms is the 1000 answered: the bound of those alone, and green = blue is ok.
    const upper = bucketUpperMs(bucketOf(1000 - mostOverBelow(1000, 0.05, alpha / 2, prior)));
    expect(known.check.evidence?.quantiles?.green.upper).toBeCloseTo(upper, 9);
    expect(known.check.status).toBe('ok');
    // The breach side (green's lower bound, blue's upper) does not move.
    expect(known.check.evidence?.quantiles?.green.lower).toBe(today.check.evidence?.quantiles?.green.lower);
    expect(known.check.evidence?.lower).toBe(today.check.evidence?.lower);
  });

  it("keeps the conservative count when the send times do not cover green's sample (live traffic, a run carried over)", () => {
    const today = compareLatency(ctx, 1.5, running, blueSent);
    // 30 running, the send times know of 29: not the sample's.
    const short = sentBefore([...new Array<number>(1000).fill(2_000), ...running.slice(1)], running.slice(1));
    expect(compareLatency(ctx, 1.5, running, blueSent, short).check.evidence?.quantiles?.green.upper).toBe(HIGHEST_MS);
    // None recorded (a live proxy's green): the same.
    expect(compareLatency(ctx, 1.5, running, blueSent, sentBefore([], [])).check.status).toBe(today.check.status);
  });
});

/**
 * The ok side with green's send times and without (blue's given either way): the second of the first "ok" each way,
 * and whether green's sent-before upper bound ever fell below green's true p95.
 */
function greenOkStage(seed: number, multiple: number, alpha: number): { withGreenSent?: number; without?: number; greenUnder: boolean } {
  const out: { withGreenSent?: number; without?: number; greenUnder: boolean } = { greenUnder: false };
  for (const { second, green, blue, ctx } of stageLooks(seed, multiple, alpha)) {
    if (out.withGreenSent === undefined && compareLatency(ctx, 1.5, green.ages, blue.sent, green.sent).check.status === 'ok') out.withGreenSent = second;
    if (out.without === undefined && compareLatency(ctx, 1.5, green.ages, blue.sent).check.status === 'ok') out.without = second;
    const bound = quantileInterval(
      { buckets: green.stats.latencyBuckets, running: green.stats.inFlight, runningAgesMs: green.ages, sent: green.sent },
      0.95,
      alpha / 2,
    );
    if (bound.upper < BLUE.p95 * multiple) out.greenUnder = true;
  }
  return out;
}

describe("green's upper bound sent-before (the ratio's ok side), seeded stages", () => {
  it("holds green's true p95 at every look (each second) in at least 1 - alpha of stages, running requests and all", () => {
    // A large alpha so that a bound too low would show: 0.2 a check is 0.1 on green's side.
    const stages = Array.from({ length: 60 }, (_, s) => greenOkStage(39_000 + s, 1, 0.2));
    expect(stages.filter((s) => s.greenUnder).length / stages.length).toBeLessThanOrEqual(0.1);
  });

  it('reads no green over the limit (1.6x) as ok beyond alpha, and a green = blue ok never later than without, earlier in most', () => {
    const over = Array.from({ length: 60 }, (_, s) => greenOkStage(40_000 + s, 1.6, 0.2));
    expect(over.filter((s) => s.withGreenSent !== undefined).length / over.length).toBeLessThanOrEqual(0.2);
    // 0 of 60 under at either multiple here; all 30 green = blue stages ok earlier (median ~24 s rather than ~39).
    const same = Array.from({ length: 30 }, (_, s) => greenOkStage(41_000 + s, 1, 0.0004));
    const at = (s: number | undefined) => s ?? Infinity;
    for (const s of same) expect(at(s.withGreenSent)).toBeLessThanOrEqual(at(s.without));
    expect(same.filter((s) => at(s.withGreenSent) < at(s.without)).length).toBeGreaterThan(same.length / 2);
  });
});
