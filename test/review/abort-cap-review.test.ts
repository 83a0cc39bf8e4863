// Review of the per-client abort cap (src/analysis/aborts.ts, drain12): known counts where the cap makes a
// verdict worse or better. The first was fixed in review12 (one line in sumArmCounts) and is a plain test; the
// second (`it.fails`) is the cap's known blind spot. review13's seeded rollouts show why it stays open: counting a
// heavy client's late aborts (tried in session 13) rolled back every healthy green with a slow batch client.
import { describe, expect, it } from 'vitest';
import { ABORTS_PER_CLIENT, stickyClient } from '../../src/analysis/aborts.js';
import { evaluate } from '../../src/analysis/index.js';
import { ArmRecorder, type ArmStats } from '../../src/metrics/index.js';
import type { AnalysisConfig } from '../../src/plan/schema.js';
import { analysisConfig } from '../helpers/plans.js';
import { sampleLognormal } from '../../src/sim/lognormal.js';
import { stickyPoint } from '../../src/split/index.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { seededRollout, type Rollback } from '../helpers/seeded-rollout.js';

const config = analysisConfig({ interval: 1000, compare_to_blue: { max_error_rate_increase: 0.02 } });

type Outcome = 'ok' | 'error' | 'abort';

/** Answers take 300 ms; an abort is at `ageMs` (2 s unless given). */
function result(arm: 'blue' | 'green', outcome: Outcome, client?: string, ageMs = 2000): UpstreamResult {
  const r: UpstreamResult = { arm, model: arm, stream: false, attempts: 1, ok: outcome === 'ok', content: 'fine', latencyMs: 300 };
  if (outcome === 'error') r.failure = 'server_error';
  if (outcome === 'abort') {
    r.failure = 'client_abort';
    r.latencyMs = ageMs;
    if (client !== undefined) r.client = client;
  }
  return r;
}

/** One stage x arm's figures from rows of [outcome, count, sticky client digest, abort age ms]. */
function arm(name: 'blue' | 'green', rows: [Outcome, number, string?, number?][]): ArmStats {
  const recorder = new ArmRecorder(undefined, { latency: [], ttft: [] });
  for (const [outcome, count, client, ageMs] of rows) for (let i = 0; i < count; i++) recorder.record(result(name, outcome, client, ageMs), false);
  return recorder.snapshot();
}

const breachOf = (green: ArmStats, blueStages: ArmStats[], stageIndex: number, greenWeight: number) =>
  evaluate({ stageIndex, stageCount: 3, green, blue: blueStages[blueStages.length - 1] as ArmStats, blueStages, greenWeight, config }).breach?.rule;

describe('review12: the abort cap in the comparisons with blue', () => {
  // At 100% green the comparisons judge against blue summed over the rollout so far (reference.ts, sumArmCounts).
  // The sum drops abortsPastClientCap: blue keeps one heavy client's 297 excess aborts as failures while green's
  // would be left out, so blue's reference reads 31% instead of 1.8% and a green failing 12% is judged `ok` in the
  // stage that promotes it. (Fixed: sumArmCounts adds abortsPastClientCap, src/metrics/types.ts.)
  it('judges a 100% green stage against a blue reference with the same aborts left out as its own stage had', () => {
    // Stage 1 (weight 0.5): a heavy impatient client sat on blue; blue's own failures 1%.
    const blueStage1 = arm('blue', [
      ['ok', 690],
      ['error', 10],
      ['abort', 300, 'heavy'],
    ]);
    expect(blueStage1.abortsPastClientCap).toBe(300 - ABORTS_PER_CLIENT);
    // Stage 1 itself is judged with the cap: blue 13 of 703 (1.8%).
    const goodGreen = arm('green', [
      ['ok', 990],
      ['error', 10],
    ]);
    expect(breachOf(goodGreen, [blueStage1], 0, 0.5)).toBeUndefined();
    // Stage 3 (weight 1): a green failing 12% of its requests, no aborts, blue has no requests of its own.
    const badGreen = arm('green', [
      ['ok', 880],
      ['error', 120],
    ]);
    const blueStage3 = arm('blue', []);
    // Against blue's own stage-1 figures with the cap (1.8%), 12% is a breach of the 2-point margin...
    expect(breachOf(badGreen, [blueStage1], 0, 0.5)).toBe('compare_to_blue.max_error_rate_increase');
    // ...and at 100% green the same blue, summed, must read the same.
    expect(breachOf(badGreen, [blueStage1, arm('blue', []), blueStage3], 2, 1)).toBe('compare_to_blue.max_error_rate_increase');
  });

  // The cap cannot tell an impatient client from a green that makes its client give up: with a few heavy sticky
  // clients (a backend sending one `user` per service or tenant, or X-Bluegreen-Sticky per service), a green on
  // which 20% of one client's requests stall past its 2 s timeout has 197 of its 200 aborts left out, and is
  // judged at 1.3% against blue's 1%: promoted. Without the cap it is 21% and rolled back. Open by choice: the
  // one fix tried (count aborts past the cap given up after blue's p99) made review13's batch client below roll
  // back every healthy green, and the plan's latency rules see a stalling green's slow answers meanwhile.
  it.fails('rolls back a green on which a heavy sticky client gives up on 20% of its requests (blue: none given up)', () => {
    const blue = arm('blue', [
      ['ok', 990],
      ['error', 10],
    ]);
    const green = arm('green', [
      ['ok', 790],
      ['error', 10],
      ['abort', 200, 'service-a'],
    ]);
    // The same figures with no sticky id on the aborts (as before the cap): rolled back.
    const anonymous = arm('green', [
      ['ok', 790],
      ['error', 10],
      ['abort', 200],
    ]);
    expect(breachOf(anonymous, [blue], 0, 0.5)).toBe('compare_to_blue.max_error_rate_increase');
    expect(breachOf(green, [blue], 0, 0.5)).toBe('compare_to_blue.max_error_rate_increase');
    // The same client giving up as often, but at 200 ms, before blue answers anything: an impatient client, capped.
    const impatient = arm('green', [
      ['ok', 790],
      ['error', 10],
      ['abort', 200, 'service-a', 200],
    ]);
    expect(breachOf(impatient, [blue], 0, 0.5)).toBeUndefined();
  });
});

// --- review13: a heavy client whose requests are slower than blue's mix ------------------------------------

const WEIGHTS = [0.1, 0.25, 0.5, 0.75, 1];
const STAGE_MS = 30_000;
const RATE = 20;
/** No threshold: the built-in guard judges errors and aborts (a latency limit would judge the client's slow requests). */
const guardPlan: AnalysisConfig = { ...config, compare_to_blue: undefined, thresholds: {} };

interface Heavy {
  /** Share of all requests the one heavy client sends; it sits on green from stage 1 (or on blue, the same client). */
  share: number;
  arm: 'green' | 'blue';
  /** Its own requests' latency on either arm (long documents, long answers): lognormal [p50, p95] ms. */
  latency: [number, number];
  /** It gives up at this age (its own client timeout). */
  patienceMs: number;
  /** Send no sticky id with its aborts (as before the cap): every abort counts. */
  anonymous?: boolean;
}

/**
 * One rollout on a green exactly as good as blue, request for request: 5,000 patient users (300 ms median, 900 ms
 * p95, 1% errors) and the heavy client. The stage and rule of its rollback, if any.
 */
function heavyRollout(seed: number, plan: AnalysisConfig, heavy: Heavy): Rollback | undefined {
  const limits = { latency: [], ttft: [] };
  const blueSoFar: ArmRecorder[] = [];
  return seededRollout(seed, { weights: WEIGHTS, stageMs: STAGE_MS, rate: RATE, intervalMs: plan.interval }, (s) => {
    const arms = { blue: new ArmRecorder(undefined, limits), green: new ArmRecorder(undefined, limits) };
    blueSoFar.push(arms.blue);
    const weight = WEIGHTS[s] as number;
    return {
      judge: () =>
        evaluate({
          stageIndex: s,
          stageCount: WEIGHTS.length,
          green: arms.green.snapshot(),
          blue: arms.blue.snapshot(),
          blueStages: blueSoFar.map((a) => a.snapshot()),
          plannedBlue: WEIGHTS.map((w) => (RATE * STAGE_MS * (1 - w)) / 1000),
          greenWeight: weight,
          config: plan,
        }).breach?.rule,
      arrive: (_at, rng) => {
        const isHeavy = rng() < heavy.share;
        const client = isHeavy ? 'heavy' : `user-${Math.floor(rng() * 5000)}`;
        const name = isHeavy ? heavy.arm : stickyPoint(1, client) < weight ? 'green' : 'blue';
        const ms = isHeavy ? sampleLognormal(rng, ...heavy.latency) : sampleLognormal(rng, 300, 900);
        const patience = isHeavy ? heavy.patienceMs : 60_000;
        const outcome = ms > patience ? 'abort' : rng() < 0.01 ? 'error' : 'ok';
        const id = isHeavy && heavy.anonymous ? undefined : stickyClient(client);
        arms[name].record(result(name, outcome, id, outcome === 'abort' ? patience : ms), false);
      },
    };
  });
}

const heavyRollouts = (count: number, plan: AnalysisConfig, heavy: Heavy) =>
  Array.from({ length: count }, (_, i) => heavyRollout(9100 + i, plan, heavy)).filter((r) => r !== undefined);

/** A batch client: 30% of the requests, each taking 3 s (median; 9 s p95) on either arm, given up at 4 s. */
const batch: Heavy = { share: 0.3, arm: 'green', latency: [3000, 9000], patienceMs: 4000 };

describe('review13: the abort cap and a heavy client with slow requests of its own', () => {
  it('gives up on a third of its requests on either arm: with no sticky id every abort counts and green rolls back', () => {
    // The scenario is one the cap exists for: the client's aborts, all counted, roll back a green as good as blue.
    const anonymous = heavyRollouts(10, guardPlan, { ...batch, anonymous: true });
    expect(anonymous).toHaveLength(10);
    expect(anonymous.every((r) => r.stage === 1 && r.rule === 'guard.green_fails_more_than_blue')).toBe(true);
    // On blue, the same client is capped and split at a p99 its own slow requests raise above its 4 s: no rollback.
    expect(heavyRollouts(10, guardPlan, { ...batch, arm: 'blue' })).toEqual([]);
  }, 120_000);

  // Finding (review13, HIGH against session 13's first try): "given up after blue's p99" was taken to mean "a
  // request blue would almost always have answered by then". With a sticky split that holds for requests drawn from
  // blue's own mix, not for the heavy client the cap exists for: its requests never reach blue, so blue's p99
  // (about 1.4 s here) says nothing about them. Counting a batch client's late aborts (3 s median requests on either
  // arm, given up at 4 s) rolled back a green exactly as good as blue in stage 1 in every rollout; the cap alone
  // rolls back none, which this test keeps.
  it('does not roll back a green as good as blue on which a batch client with slow requests gives up at 4 s', () => {
    expect(heavyRollouts(10, guardPlan, batch)).toEqual([]);
  }, 120_000);
});
