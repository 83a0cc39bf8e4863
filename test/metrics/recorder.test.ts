import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/analysis/types.js';
import { MetricsRecorder, emptyArmStats } from '../../src/metrics/index.js';
import { snapshotProblem } from '../../src/state/snapshot-schema.js';
import type { MetricsRecorderOptions } from '../../src/metrics/index.js';
import { failed, manualClock, ok, PASS } from './helpers.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { snapshot } from '../state/helpers.js';

const T0 = 1_700_000_000_000;

function recorder(overrides: Partial<MetricsRecorderOptions> = {}) {
  const clock = manualClock(T0);
  const metrics = new MetricsRecorder({
    stages: [
      { name: 'canary', durationMs: 60_000, greenWeight: 0.1 },
      { durationMs: 120_000, greenWeight: 0.5 },
    ],
    prices: { blue: { input_per_mtok: 2.5, output_per_mtok: 10 }, green: { input_per_mtok: 2, output_per_mtok: 8 } },
    now: clock.now,
    ...overrides,
  });
  return { metrics, clock };
}

describe('MetricsRecorder stages', () => {
  it('starts with pending stages and empty arms', () => {
    const { metrics } = recorder();
    const stages = metrics.stages();
    expect(stages).toHaveLength(2);
    expect(stages[0]).toEqual({
      index: 0,
      name: 'canary',
      greenWeight: 0.1,
      durationMs: 60_000,
      verdict: 'pending',
      arms: { blue: emptyArmStats(), green: emptyArmStats() },
    });
    expect(stages[1]).not.toHaveProperty('name');
    expect(JSON.parse(JSON.stringify(stages))).toEqual(stages);
  });

  it('times stages from the injected clock and records verdicts and weights', () => {
    const { metrics, clock } = recorder();
    metrics.startStage(0);
    expect(metrics.stage(0)).toMatchObject({ verdict: 'running', startedAt: T0 });
    clock.advance(60_000);
    metrics.endStage(0, 'passed');
    metrics.startStage(1);
    metrics.setStageWeight(1, 0);
    clock.advance(5_000);
    metrics.endStage(1, 'failed');
    expect(metrics.stage(0)).toMatchObject({ verdict: 'passed', startedAt: T0, endedAt: T0 + 60_000 });
    expect(metrics.stage(1)).toMatchObject({ verdict: 'failed', startedAt: T0 + 60_000, endedAt: T0 + 65_000, greenWeight: 0 });
  });

  it('keeps the checks that decided a stage, unchanged by results that come after, in its figures and state.json', () => {
    const { metrics } = recorder();
    metrics.startStage(0);
    metrics.recordResult(0, ok('green'), PASS);
    const passedOn: CheckResult[] = [{ rule: 'error_rate', status: 'ok', figure: 0, limit: 0.05, unit: 'ratio', sample: 1, proximity: 0 }];
    metrics.judged(0, passedOn);
    metrics.endStage(0, 'passed');
    passedOn.length = 0;
    // An answer to a request that was in flight when the stage passed.
    metrics.recordResult(0, failed('green'), PASS);
    const stage = metrics.stage(0, true);
    expect(stage.arms.green).toMatchObject({ requests: 2, failures: 1 });
    expect(stage.checks).toEqual([{ rule: 'error_rate', status: 'ok', figure: 0, limit: 0.05, unit: 'ratio', sample: 1, proximity: 0 }]);
    expect(metrics.stage(1).checks).toBeUndefined();
    // state.json's schema takes them, and names a hand-edited one's bad key.
    const state = (checks: unknown) => ({ ...snapshot({ greenWeight: 0.1 }), stages: [{ ...JSON.parse(JSON.stringify(stage)), checks }] });
    expect(snapshotProblem(state(stage.checks))).toBeUndefined();
    expect(snapshotProblem(state(undefined))).toBeUndefined();
    expect(snapshotProblem(state([{ rule: 'error_rate', status: 'ok' }]))).toContain('stages[0].checks[0].figure');
  });

  it('marks a stage that never started as skipped without times', () => {
    const { metrics } = recorder();
    metrics.endStage(1, 'skipped');
    const stage = metrics.stage(1);
    expect(stage.verdict).toBe('skipped');
    expect(stage.startedAt).toBeUndefined();
    expect(stage.endedAt).toBeUndefined();
  });

  it('refuses a stage index the plan does not have', () => {
    const { metrics } = recorder();
    expect(() => metrics.stage(2)).toThrow(RangeError);
    expect(() => metrics.recordDispatch(-1, 'green', false)).toThrow(/no stage -1/);
  });

  it('returns copies that callers cannot use to change the figures', () => {
    const { metrics } = recorder();
    metrics.recordResult(0, failed('green', { failure: 'timeout' }), PASS);
    const copy = metrics.stage(0);
    copy.arms.green.failures = 99;
    copy.arms.green.failuresByClass.timeout = 99;
    copy.arms.green.tokens.prompt = 99;
    const fresh = metrics.stage(0).arms.green;
    expect(fresh.failures).toBe(1);
    expect(fresh.failuresByClass).toEqual({ timeout: 1 });
    expect(fresh.tokens.prompt).toBe(0);
  });
});

describe('MetricsRecorder counters', () => {
  it('counts requests, successes, failures by class and retries per stage and arm', () => {
    const { metrics } = recorder();
    metrics.recordResult(0, ok('green', { attempts: 3 }), PASS);
    metrics.recordResult(0, failed('green', { failure: 'timeout', attempts: 4 }), PASS);
    metrics.recordResult(0, failed('green', { failure: 'timeout' }), PASS);
    metrics.recordResult(0, failed('green', { failure: 'rate_limited', attempts: 2 }), PASS);
    metrics.recordResult(0, ok('blue'), PASS);
    metrics.recordResult(1, ok('green'), PASS);
    const green = metrics.stage(0).arms.green;
    expect(green).toMatchObject({ requests: 4, successes: 1, failures: 3, retries: 2 + 3 + 1 });
    expect(green.failuresByClass).toEqual({ timeout: 2, rate_limited: 1 });
    expect(metrics.stage(0).arms.blue).toMatchObject({ requests: 1, successes: 1, failures: 0, retries: 0 });
    expect(metrics.stage(1).arms.green.requests).toBe(1);
  });

  // A neutral result (UpstreamResult.neutral, which only a proxy sets: src/proxy/neutral.ts) is in no figure a rule
  // reads: counted apart, in no rate, latency, slow count, token, quality, window or streak figure.
  it('counts neutral results apart: no request, failure, latency, slow count, window or streak of the arm’s', () => {
    const { metrics } = recorder({ slowLimits: { latency: [1000], ttft: [] } });
    const refused = () => failed('green', { status: 400, failure: 'client_error', latencyMs: 5000, neutral: true });
    metrics.recordDispatch(0, 'green', false);
    metrics.recordResult(0, failed('green'), PASS);
    metrics.recordResult(0, refused(), { ok: false, reason: 'empty answer' });
    metrics.recordResult(0, ok('green', { latencyMs: 200 }), PASS);
    metrics.recordResult(0, refused(), PASS);
    metrics.recordResult(0, ok('green', { latencyMs: 3000, neutral: true, usage: { promptTokens: 10, completionTokens: 10, totalTokens: 20 } }), PASS);
    metrics.recordResult(0, failed('green'), PASS);
    const green = metrics.stage(0).arms.green;
    expect(green).toMatchObject({ requests: 3, successes: 1, failures: 2, qualityFailures: 0, neutral: 3, inFlight: 0 });
    expect(green.tokens).toEqual({ prompt: 0, completion: 0 });
    expect(green.failuresByClass).toEqual({ server_error: 2 });
    expect(green.latency?.count).toBe(3);
    expect(green.slow?.latency).toEqual({ '1000': 0 });
    // The success broke the streak; the neutral results after it neither extended nor broke it.
    expect(green.consecutiveFailures).toBe(1);
    expect(metrics.window('green').errorRate).toBeCloseTo(2 / 3);
    expect(metrics.stage(0).arms.blue.neutral).toBeUndefined();
  });

  it('takes a neutral result answered after its stage passed for no late result: nothing judged changed', () => {
    const { metrics } = recorder();
    metrics.startStage(0);
    metrics.endStage(0, 'passed');
    metrics.recordResult(0, failed('green', { status: 400, failure: 'client_error', neutral: true }), PASS);
    expect(metrics.late(0)).toBe(0);
    metrics.recordResult(0, failed('green'), PASS);
    expect(metrics.late(0)).toBe(1);
  });

  it('tracks in-flight requests and drops', () => {
    const { metrics } = recorder();
    metrics.recordDispatch(0, 'green', false);
    metrics.recordDispatch(0, 'green', false);
    metrics.recordDispatch(0, 'blue', false);
    metrics.recordDropped(0, 'green');
    metrics.recordDropped(0, 'green');
    expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 2, dropped: 2, requests: 0 });
    metrics.recordResult(0, ok('green'), PASS);
    metrics.recordResult(0, failed('green'), PASS);
    expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 0, dropped: 2, requests: 2 });
    expect(metrics.stage(0).arms.blue.inFlight).toBe(1);
    // A result without a dispatch (never expected) does not drive the gauge negative.
    metrics.recordResult(0, ok('green'), PASS);
    expect(metrics.stage(0).arms.green.inFlight).toBe(0);
  });

  it('adds tokens and prices them exactly per arm', () => {
    const { metrics } = recorder();
    const usage = (promptTokens: number, completionTokens: number) => ({ promptTokens, completionTokens, totalTokens: promptTokens + completionTokens });
    metrics.recordResult(0, ok('blue', { usage: usage(1000, 500) }), PASS);
    metrics.recordResult(0, ok('blue', { usage: usage(3000, 1500) }), PASS);
    metrics.recordResult(0, ok('green', { usage: usage(1_000_000, 250_000) }), PASS);
    metrics.recordResult(0, failed('green'), PASS); // no usage: no tokens, no cost
    const { blue, green } = metrics.stage(0).arms;
    expect(blue.tokens).toEqual({ prompt: 4000, completion: 2000 });
    expect(blue.costUsd).toBe((4000 * 2.5) / 1e6 + (2000 * 10) / 1e6);
    expect(blue.costUsd).toBe(0.03);
    expect(green.tokens).toEqual({ prompt: 1_000_000, completion: 250_000 });
    expect(green.costUsd).toBe(4);
  });

  it('costs nothing for an arm without a price', () => {
    const { metrics } = recorder({ prices: { blue: undefined, green: undefined } });
    metrics.recordResult(0, ok('green', { usage: { promptTokens: 10, completionTokens: 10, totalTokens: 20 } }), PASS);
    expect(metrics.stage(0).arms.green.costUsd).toBe(0);
    expect(metrics.stage(0).arms.green.tokens).toEqual({ prompt: 10, completion: 10 });
  });

  it('keeps the latest rate-limit figures, from failures too', () => {
    const { metrics } = recorder();
    expect(metrics.stage(0).arms.green.rateLimit).toBeUndefined();
    metrics.recordResult(0, ok('green', { rateLimit: { remainingRequests: 10, remainingTokens: 5000 } }), PASS);
    metrics.recordResult(0, ok('green'), PASS);
    expect(metrics.stage(0).arms.green.rateLimit).toEqual({ remainingRequests: 10, remainingTokens: 5000 });
    metrics.recordResult(0, failed('green', { failure: 'rate_limited', rateLimit: { remainingRequests: 0 } }), PASS);
    expect(metrics.stage(0).arms.green.rateLimit).toEqual({ remainingRequests: 0 });
  });

  it('counts quality failures on successes only', () => {
    const { metrics } = recorder();
    const bad = { ok: false, reason: 'empty content' };
    metrics.recordResult(0, ok('green'), bad);
    metrics.recordResult(0, ok('green'), PASS);
    metrics.recordResult(0, failed('green'), bad); // an error, not a quality failure
    expect(metrics.stage(0).arms.green).toMatchObject({ successes: 2, failures: 1, qualityFailures: 1 });
  });
});

describe('MetricsRecorder consecutive failures', () => {
  it('counts errors and quality failures in a row and resets on a clean success', () => {
    const { metrics } = recorder();
    const bad = { ok: false, reason: 'x' };
    metrics.recordResult(0, failed('green'), PASS);
    metrics.recordResult(0, ok('green'), bad);
    metrics.recordResult(0, failed('green'), PASS);
    metrics.recordResult(0, ok('blue'), PASS); // the other arm does not break green's run
    expect(metrics.stage(0).arms.green.consecutiveFailures).toBe(3);
    metrics.recordResult(0, ok('green'), PASS);
    expect(metrics.stage(0).arms.green.consecutiveFailures).toBe(0);
  });

  it('keeps a run going across a stage boundary', () => {
    const { metrics } = recorder();
    metrics.startStage(0);
    metrics.recordResult(0, failed('green'), PASS);
    metrics.recordResult(0, failed('green'), PASS);
    metrics.endStage(0, 'passed');
    metrics.startStage(1);
    expect(metrics.stage(1).arms.green.consecutiveFailures).toBe(2);
    // A late result of stage 0 still extends the run the current stage shows.
    metrics.recordResult(0, failed('green'), PASS);
    expect(metrics.stage(1).arms.green.consecutiveFailures).toBe(3);
    metrics.recordResult(1, failed('green'), PASS);
    expect(metrics.stage(1).arms.green.consecutiveFailures).toBe(4);
    metrics.recordResult(1, ok('green'), PASS);
    expect(metrics.stage(1).arms.green.consecutiveFailures).toBe(0);
  });
});

describe('MetricsRecorder latency', () => {
  it('gives latency percentiles over all completed requests and ttft over streamed successes', () => {
    const { metrics } = recorder();
    for (let ms = 1; ms <= 1000; ms++) {
      const result = ms % 10 === 0 ? failed('green', { latencyMs: ms }) : ok('green', { latencyMs: ms, stream: true, ttftMs: ms / 10 });
      metrics.recordResult(0, result, PASS);
    }
    metrics.recordResult(0, ok('green', { latencyMs: 5, ttftMs: 1 }), PASS); // not streamed: no ttft
    const { latency, ttft } = metrics.stage(0).arms.green;
    expect(latency?.count).toBe(1001);
    expect(latency?.p95).toBeGreaterThanOrEqual(949);
    expect(latency?.p95).toBeLessThanOrEqual(951);
    expect(latency?.max).toBe(1000);
    expect(ttft?.count).toBe(900);
    expect(ttft?.max).toBe(99.9);
    expect(metrics.stage(0).arms.blue.latency).toBeNull();
  });

  it('recomputes percentiles only when values arrive, and still reflects new ones', () => {
    const { metrics } = recorder();
    metrics.recordResult(0, ok('green', { latencyMs: 100 }), PASS);
    const a = metrics.stage(0).arms.green.latency;
    const b = metrics.stage(0).arms.green.latency;
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
    metrics.recordResult(0, ok('green', { latencyMs: 300 }), PASS);
    expect(metrics.stage(0).arms.green.latency?.max).toBe(300);
  });
});

describe('MetricsRecorder window', () => {
  it('gives live figures per arm across stages and forgets old seconds', () => {
    const { metrics, clock } = recorder({ windowSeconds: 3 });
    metrics.recordResult(0, failed('green', { latencyMs: 2000 }), PASS);
    metrics.recordResult(0, ok('blue', { latencyMs: 10 }), PASS);
    clock.advance(1000);
    metrics.recordResult(1, ok('green', { latencyMs: 200 }), PASS);
    const green = metrics.window('green');
    expect(green.seconds).toBe(3);
    expect(green.errorRate).toBe(0.5);
    expect(green.requestsPerSecond).toBe(2);
    expect(green.latencyP95).toBeGreaterThanOrEqual(1990);
    expect(metrics.window('blue').errorRate).toBe(0);
    clock.advance(2000); // the failure's second has left the window
    expect(metrics.window('green').errorRate).toBe(0);
    expect(metrics.window('green').latencyP95).toBeCloseTo(200, -1);
    clock.advance(1000);
    expect(metrics.window('green')).toEqual({ seconds: 3, requestsPerSecond: 0, errorRate: 0, latencyP95: null });
  });

  // clock24: the window's seconds were the wall clock's: a step back of an hour emptied it (no requests, no p95) for
  // that hour, a step forward emptied it at once.
  it('counts its seconds on the steady clock: a wall clock stepped either way keeps the figures', async () => {
    const clock = new FakeClock();
    const { metrics } = recorder({ windowSeconds: 3, now: () => clock.now(), steadyNow: () => clock.steadyNow() });
    metrics.recordResult(0, failed('green', { latencyMs: 2000 }), PASS);
    metrics.recordResult(0, ok('green', { latencyMs: 10 }), PASS);
    await clock.advance(1000);
    clock.jumpWall(-3_600_000);
    metrics.recordResult(0, ok('green', { latencyMs: 10 }), PASS);
    const figures = { seconds: 3, requestsPerSecond: 3, errorRate: 1 / 3 };
    expect(metrics.window('green')).toMatchObject(figures);
    clock.jumpWall(7_200_000);
    expect(metrics.window('green')).toMatchObject(figures);
    expect(metrics.window('green').latencyP95).toBeGreaterThanOrEqual(1990);
  });

  it('is not kept with liveWindow: false (the proxy): the stage figures are the same, and asking for it is an error', () => {
    const reads: number[] = [];
    const clock = manualClock(T0);
    const now = (): number => {
      reads.push(clock.now());
      return clock.now();
    };
    const { metrics: kept } = recorder();
    const { metrics: windowless } = recorder({ now, liveWindow: false });
    for (const metrics of [kept, windowless]) {
      metrics.startStage(0);
      metrics.recordResult(0, failed('green', { latencyMs: 2000 }), PASS);
      metrics.recordResult(0, ok('blue', { latencyMs: 10 }), PASS);
    }
    expect(windowless.stage(0)).toEqual(kept.stage(0));
    // The clock is read for the stage's start only: not per result, as a window's seconds need.
    expect(reads).toHaveLength(1);
    expect(() => windowless.window('green')).toThrow(/no live window/);
  });
});
