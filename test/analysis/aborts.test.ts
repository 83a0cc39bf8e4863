// Client aborts (a proxied request whose client went away before the first byte) in the verdict: known values
// for each rule, and seeded simulations of impatient clients on both arms (no false rollback) and of a green
// that never answers (rolled back in its first stage).
import { describe, expect, it } from 'vitest';
import { ABORTS_PER_CLIENT, comparedFailures, stickyClient } from '../../src/analysis/aborts.js';
import { censoredBounds } from '../../src/analysis/sequential.js';
import { evaluate, priorAround, rateBounds } from '../../src/analysis/index.js';
import { createRandom } from '../../src/core/random.js';
import { stickyPoint } from '../../src/split/index.js';
import { ArmRecorder, HIGHEST_MS, MetricsRecorder, type ArmStats } from '../../src/metrics/index.js';
import type { AnalysisConfig } from '../../src/plan/schema.js';
import { analysisConfig } from '../helpers/plans.js';
import { sampleLognormal } from '../../src/sim/lognormal.js';
import type { UpstreamResult } from '../../src/upstream/types.js';

const base = analysisConfig({ interval: 1000 });
/** Only a latency rule: the built-in guard judges errors (and aborts). */
const guardPlan: AnalysisConfig = { ...base, thresholds: { latency_p95: 3000 } };
const comparePlan: AnalysisConfig = {
  ...base,
  thresholds: { error_rate: 0.05, latency_p95: 3000, consecutive_errors: 5 },
  compare_to_blue: { max_error_rate_increase: 0.02 },
};

function result(arm: 'blue' | 'green', latencyMs: number, outcome: 'ok' | 'error' | 'abort', client?: string): UpstreamResult {
  const r: UpstreamResult = { arm, model: arm, stream: false, attempts: 1, ok: outcome === 'ok', content: 'fine answer', latencyMs };
  if (outcome === 'error') r.failure = 'server_error';
  if (outcome === 'abort') r.failure = 'client_abort';
  if (outcome === 'abort' && client !== undefined) r.client = client;
  return r;
}

/** An arm's figures from counts of results: [latency ms, outcome, how many]. */
function arm(name: 'blue' | 'green', rows: [number, 'ok' | 'error' | 'abort', number][], latencies: number[] = []): ArmStats {
  const recorder = new ArmRecorder(undefined, { latency: latencies, ttft: [] }, true);
  for (const [ms, outcome, count] of rows) for (let i = 0; i < count; i++) recorder.record(result(name, ms, outcome), false);
  return recorder.snapshot();
}

function statuses(config: AnalysisConfig, green: ArmStats, blue: ArmStats) {
  const verdict = evaluate({ stageIndex: 0, stageCount: 1, green, blue, greenWeight: 0.5, config });
  return { byRule: Object.fromEntries(verdict.checks.map((c) => [c.rule, c.status])), verdict };
}

describe('the censored interval', () => {
  it('is the plain interval with nothing unknown, and brackets every count in between', () => {
    const prior = priorAround(0.05);
    expect(censoredBounds(7, 0, 200, 0.01, prior)).toEqual(rateBounds(7, 200, 0.01, prior));
    const wide = censoredBounds(7, 30, 200, 0.01, prior);
    expect(wide.lower).toBe(rateBounds(7, 200, 0.01, prior).lower);
    expect(wide.upper).toBe(rateBounds(37, 200, 0.01, prior).upper);
    // The premise of its validity: both bounds grow with the count.
    let last = { lower: -1, upper: -1 };
    for (let x = 0; x <= 200; x++) {
      const next = rateBounds(x, 200, 0.01, prior);
      expect(next.lower).toBeGreaterThanOrEqual(last.lower);
      expect(next.upper).toBeGreaterThanOrEqual(last.upper);
      last = next;
    }
    // More unknown than could be events: capped at n.
    expect(censoredBounds(190, 30, 200, 0.01, prior).upper).toBe(1);
  });
});

describe('client aborts in the rules', () => {
  it('keeps an absolute error_rate from reading ok, and never rolls back on aborts alone', () => {
    const blue = arm('blue', [[300, 'ok', 100]]);
    // 60 of 100 given up by their clients at 2 s, no failure seen: before aborts were judged this way, 60% errors.
    const green = arm('green', [
      [300, 'ok', 40],
      [2000, 'abort', 60],
    ]);
    const { byRule, verdict } = statuses({ ...base, thresholds: { error_rate: 0.05 } }, green, blue);
    expect(byRule.error_rate).toBe('undecided');
    expect(verdict.breach).toBeUndefined();
    const check = verdict.checks.find((c) => c.rule === 'error_rate');
    expect(check?.figure).toBe(0);
    expect(check?.evidence?.upper).toBeGreaterThan(0.6);
    // With no abort, the same 40 successes read ok.
    expect(statuses({ ...base, thresholds: { error_rate: 0.05 } }, arm('green', [[300, 'ok', 200]]), blue).byRule.error_rate).toBe('ok');
  });

  it('still breaches error_rate on the failures seen, and says how many were given up', () => {
    const green = arm('green', [
      [300, 'ok', 60],
      [300, 'error', 30],
      [2000, 'abort', 10],
    ]);
    const { verdict } = statuses({ ...base, thresholds: { error_rate: 0.05 } }, green, arm('blue', [[300, 'ok', 100]]));
    expect(verdict.breach?.rule).toBe('error_rate');
    expect(verdict.breach?.message).toMatch(
      /^green error_rate 33\.3% .* over 100 requests, 10 of them given up by their clients in stage 1; green failures: server_error 30, client_abort 10/,
    );
  });

  it('counts an abort after the latency limit as over it, before it as unknown', () => {
    const blue = arm('blue', [[300, 'ok', 100]], [3000]);
    const late = arm(
      'green',
      [
        [300, 'ok', 60],
        [4000, 'abort', 40],
      ],
      [3000],
    );
    expect(statuses(guardPlan, late, blue).byRule.latency_p95).toBe('breach');
    const early = arm(
      'green',
      [
        [300, 'ok', 60],
        [2000, 'abort', 40],
      ],
      [3000],
    );
    expect(statuses(guardPlan, early, blue).byRule.latency_p95).toBe('undecided');
    expect(statuses(guardPlan, arm('green', [[300, 'ok', 400]], [3000]), blue).byRule.latency_p95).toBe('ok');
  });

  it('judges aborts as failures in the guard and the comparisons, where blue has them too', () => {
    const blue = arm('blue', [
      [300, 'ok', 95],
      [2000, 'abort', 5],
    ]);
    const hanging = arm('green', [[2000, 'abort', 40]]);
    expect(statuses(guardPlan, hanging, blue).verdict.breach?.rule).toBe('guard.green_fails_more_than_blue');
    const { verdict } = statuses(comparePlan, hanging, blue);
    expect(verdict.breach?.rule).toBe('compare_to_blue.max_error_rate_increase');
    expect(verdict.breach?.message).toContain('client_abort 40');
    // The same share given up on both arms: nothing shown.
    const alike = arm('green', [
      [300, 'ok', 95],
      [2000, 'abort', 5],
    ]);
    expect(statuses(comparePlan, alike, blue).verdict.breach).toBeUndefined();
  });

  it('takes an abort at its age for the p95 lower bound and as slower than anything for the upper', () => {
    const config: AnalysisConfig = { ...base, compare_to_blue: { max_latency_p95_ratio: 1.5 } };
    const quick = arm('blue', [[300, 'ok', 200]]);
    // Blue's clients gave up on 10%: blue's p95 may be anything above their ages, so no ratio can be shown.
    const blueGivenUp = arm('blue', [
      [300, 'ok', 180],
      [500, 'abort', 20],
    ]);
    const slowGreen = arm('green', [[2000, 'ok', 200]]);
    const ratio = (green: ArmStats, blue: ArmStats) =>
      statuses(config, green, blue).verdict.checks.find((c) => c.rule === 'compare_to_blue.max_latency_p95_ratio');
    expect(ratio(slowGreen, quick)?.status).toBe('breach');
    expect(ratio(slowGreen, blueGivenUp)?.status).toBe('undecided');
    expect(ratio(slowGreen, blueGivenUp)?.evidence?.quantiles?.blue.upper).toBe(HIGHEST_MS);
    // Green's aborts at 5 s: at least that slow, enough for the breach side.
    expect(
      ratio(
        arm('green', [
          [300, 'ok', 150],
          [5000, 'abort', 50],
        ]),
        quick,
      )?.status,
    ).toBe('breach');
  });

  it('neither extends nor breaks a consecutive_errors streak', () => {
    const metrics = new MetricsRecorder({
      stages: [{ name: 's', durationMs: 0, greenWeight: 1 }],
      prices: { blue: undefined, green: undefined },
      now: () => 0,
    });
    metrics.startStage(0);
    const streak = () => metrics.stage(0).arms.green.consecutiveFailures;
    const outcomes: ('ok' | 'error' | 'abort')[] = ['error', 'abort', 'abort', 'abort', 'abort', 'abort', 'error'];
    for (const outcome of outcomes) metrics.recordResult(0, result('green', 100, outcome), { ok: true });
    expect(streak()).toBe(2);
  });
});

// --- seeded rollouts ---------------------------------------------------------------------------------------

const WEIGHTS = [0.1, 0.25, 0.5, 0.75, 1];
const STAGE_MS = 30_000;
const RATE = 20;

interface Clients {
  /** Share of clients that give up early, and how long they wait (ms); the others wait `patientMs`. */
  impatient: number;
  impatientMs: [number, number];
  patientMs: number;
  /** Sticky ids: each request from one of this many users (their aborts carry it). */
  users?: number;
  /** One heavy client sending `share` of the requests, sticky on green from the first stage, giving up within `patienceMs`. */
  dominant?: { share: number; patienceMs: [number, number] };
  /** Record no sticky id (as before the per-client cap): every abort counts in the comparisons. */
  anonymous?: boolean;
}

/** Latency of a request on this arm (ms), Infinity for one never answered. */
type Latency = (arm: 'blue' | 'green', rng: () => number) => number;

const healthy: Latency = (_arm, rng) => sampleLognormal(rng, 300, 900);
const impatient: Clients = { impatient: 0.1, impatientMs: [200, 2000], patientMs: 60_000 };

/** One rollout (judged every second and at each stage's end); the stage and rule of its rollback, if any. */
function rollout(seed: number, config: AnalysisConfig, latency: Latency, clients: Clients): { stage: number; rule: string } | undefined {
  const rng = createRandom(seed);
  const limits = { latency: config.thresholds.latency_p95 !== undefined ? [config.thresholds.latency_p95] : [], ttft: [] };
  const blueSoFar: ArmRecorder[] = [];
  let t = 0;
  for (let s = 0; s < WEIGHTS.length; s++) {
    const arms = { blue: new ArmRecorder(undefined, limits), green: new ArmRecorder(undefined, limits) };
    blueSoFar.push(arms.blue);
    const end = (s + 1) * STAGE_MS;
    let tick = t + config.interval;
    for (;;) {
      const arrival = t - (Math.log(1 - rng()) / RATE) * 1000;
      const at = Math.min(arrival, tick, end);
      if (at !== arrival) {
        const blue = arms.blue.snapshot();
        const verdict = evaluate({
          stageIndex: s,
          stageCount: WEIGHTS.length,
          green: arms.green.snapshot(),
          blue,
          blueStages: blueSoFar.map((a) => a.snapshot()),
          plannedBlue: WEIGHTS.map((w) => (RATE * STAGE_MS * (1 - w)) / 1000),
          greenWeight: WEIGHTS[s],
          config,
        });
        if (verdict.breach) return { stage: s + 1, rule: verdict.breach.rule };
        if (at === end) break;
        t = at;
        tick += config.interval;
        continue;
      }
      t = arrival;
      const weight = WEIGHTS[s] as number;
      const heavy = clients.dominant !== undefined && rng() < clients.dominant.share;
      const client = heavy ? 'heavy' : clients.users !== undefined ? `user-${Math.floor(rng() * clients.users)}` : undefined;
      // A user stays on the arm its sticky point puts it, as the proxy's splitter does; the heavy client's point is
      // below 10%: on green from the first stage on. Requests without an id are split at random.
      const name = heavy || (client !== undefined ? stickyPoint(1, client) < weight : rng() < weight) ? 'green' : 'blue';
      const wait = heavy ? clients.dominant?.patienceMs : rng() < clients.impatient ? clients.impatientMs : undefined;
      const patience = wait ? wait[0] + rng() * (wait[1] - wait[0]) : clients.patientMs;
      const ms = latency(name, rng);
      const outcome = ms > patience ? 'abort' : rng() < 0.01 ? 'error' : 'ok';
      const id = client === undefined || clients.anonymous ? undefined : stickyClient(client);
      arms[name].record(result(name, outcome === 'abort' ? patience : ms, outcome, id), false);
    }
    t = end;
  }
  return undefined;
}

function rollouts(count: number, config: AnalysisConfig, latency: Latency, clients: Clients) {
  return Array.from({ length: count }, (_, i) => rollout(7000 + i, config, latency, clients)).filter((r) => r !== undefined);
}

describe('seeded rollouts with client aborts', () => {
  it('does not roll back a healthy green when 10% of the clients on both arms give up within 0.2-2 s', () => {
    // 100 rollouts per plan; the budget allows 1%. None rolled back (false alarms: 0 of 200).
    expect(rollouts(100, guardPlan, healthy, impatient)).toEqual([]);
    expect(rollouts(100, comparePlan, healthy, impatient)).toEqual([]);
  });

  it('rolls back a green that never answers, its clients giving up at 2 s, in its first stage', () => {
    const hangs: Latency = (name, rng) => (name === 'green' ? Infinity : healthy(name, rng));
    const clients: Clients = { impatient: 0, impatientMs: [0, 0], patientMs: 2000 };
    for (const config of [guardPlan, comparePlan]) {
      const caught = rollouts(20, config, hangs, clients);
      expect(caught).toHaveLength(20);
      expect(caught.every((r) => r.stage === 1)).toBe(true);
    }
  });
});

describe('one sticky client cannot decide a comparison through its aborts', () => {
  it(`counts the first ${ABORTS_PER_CLIENT} aborts of each client per stage and arm, and leaves the rest out of failures and requests`, () => {
    const recorder = new ArmRecorder(undefined, { latency: [], ttft: [] });
    for (let i = 0; i < 10; i++) recorder.record(result('green', 500, 'abort', 'heavy'), false);
    for (let i = 0; i < 2; i++) recorder.record(result('green', 500, 'abort', 'other'), false);
    // Aborts without a sticky id, and other failures, are never capped.
    for (let i = 0; i < 5; i++) recorder.record(result('green', 500, 'abort'), false);
    for (let i = 0; i < 5; i++) recorder.record(result('green', 500, 'error', 'heavy'), false);
    for (let i = 0; i < 20; i++) recorder.record(result('green', 500, 'ok'), false);
    const stats = recorder.snapshot();
    expect(stats.failuresByClass.client_abort).toBe(17);
    expect(stats.abortsPastClientCap).toBe(10 - ABORTS_PER_CLIENT);
    expect(comparedFailures(stats)).toEqual({ x: 22 - 7, n: 42 - 7 });
    // The digest names no user, and is the same on every proxy.
    expect(stickyClient('alice@example.com')).toBe(stickyClient('alice@example.com'));
    expect(stickyClient('alice@example.com')).not.toContain('alice');
  });

  it('no longer rolls back a healthy green on which one heavy impatient client sits (30% of requests, giving up within 0.1-0.6 s)', () => {
    const dominant: Clients = { ...impatient, users: 5000, dominant: { share: 0.3, patienceMs: [100, 600] } };
    // Without the cap the heavy client alone rolls most of them back (the rule before session 12).
    expect(rollouts(20, guardPlan, healthy, { ...dominant, anonymous: true }).length).toBeGreaterThan(10);
    expect(rollouts(50, guardPlan, healthy, dominant)).toEqual([]);
    expect(rollouts(50, comparePlan, healthy, dominant)).toEqual([]);
  }, 120_000);

  it('still rolls back a green that never answers: at once with many users, a stage later with a few heavy ones', () => {
    const hangs: Latency = (name, rng) => (name === 'green' ? Infinity : healthy(name, rng));
    const users = (count: number): Clients => ({ impatient: 0, impatientMs: [0, 0], patientMs: 2000, users: count });
    for (const config of [guardPlan, comparePlan]) {
      const many = rollouts(20, config, hangs, users(5000));
      expect(many).toHaveLength(20);
      expect(many.every((r) => r.stage === 1)).toBe(true);
      // 50 users at 20 req/s over 30 s stages send 12 requests each a stage. At 10% green 4 of them are on green:
      // 12 counted aborts, below min_requests (20); at 25%, enough.
      const few = rollouts(20, config, hangs, users(50));
      expect(few).toHaveLength(20);
      expect(few.every((r) => r.stage === 2)).toBe(true);
    }
  }, 120_000);
});
