// The counts the sequential verdicts judge: requests over each latency limit, first tokens over each ttft
// limit, a sample message per failure class, and blue's counts added up over stages.
import { describe, expect, it } from 'vitest';
import { bucketLowerMs, bucketOf, bucketTotal, bucketUpperMs, MetricsRecorder, sumArmCounts } from '../../src/metrics/index.js';
import { failed, manualClock, ok, PASS } from './helpers.js';

function recorder() {
  const clock = manualClock();
  const metrics = new MetricsRecorder({
    stages: [
      { durationMs: 60_000, greenWeight: 0.5 },
      { durationMs: 60_000, greenWeight: 1 },
    ],
    prices: { blue: undefined, green: undefined },
    now: clock.now,
    slowLimits: { latency: [2000, 5000], ttft: [800] },
  });
  metrics.startStage(0);
  return metrics;
}

describe('slow counts', () => {
  it('counts requests strictly over each latency limit, failures included, and streamed first tokens over the ttft limit', () => {
    const metrics = recorder();
    for (const latencyMs of [100, 2000, 2001, 6000]) metrics.recordResult(0, ok('green', { latencyMs }), PASS);
    metrics.recordResult(0, failed('green', { latencyMs: 9000 }), PASS);
    metrics.recordResult(0, ok('green', { stream: true, ttftMs: 900, latencyMs: 1000 }), PASS);
    metrics.recordResult(0, ok('green', { stream: true, ttftMs: 800, latencyMs: 1000 }), PASS);
    expect(metrics.stage(0).arms.green.slow).toEqual({ latency: { 2000: 3, 5000: 2 }, ttft: { 800: 1 } });
    expect(metrics.stage(0).arms.blue.slow).toEqual({ latency: { 2000: 0, 5000: 0 }, ttft: { 800: 0 } });
  });

  it('keeps the first upstream message of each failure class', () => {
    const metrics = recorder();
    metrics.recordResult(0, failed('green', { failure: 'auth', errorMessage: 'HTTP 401: invalid key' }), PASS);
    metrics.recordResult(0, failed('green', { failure: 'auth', errorMessage: 'HTTP 401: second' }), PASS);
    metrics.recordResult(0, failed('green', { failure: 'timeout', errorMessage: 'timed out after 10s' }), PASS);
    expect(metrics.stage(0).arms.green.failureSamples).toEqual({ auth: 'HTTP 401: invalid key', timeout: 'timed out after 10s' });
    expect(metrics.stage(0).arms.green.failuresByClass).toEqual({ auth: 2, timeout: 1 });
  });

  it('adds up blue over stages for the comparisons', () => {
    const metrics = recorder();
    metrics.recordResult(0, ok('blue'), PASS);
    metrics.recordResult(0, failed('blue', { failure: 'rate_limited' }), PASS);
    metrics.recordResult(0, ok('blue'), { ok: false, reason: 'short' });
    metrics.startStage(1);
    metrics.recordResult(1, failed('blue', { failure: 'rate_limited' }), PASS);
    const total = sumArmCounts(metrics.stages().map((stage) => stage.arms.blue));
    expect(total).toMatchObject({ requests: 4, successes: 2, failures: 2, qualityFailures: 1, failuresByClass: { rate_limited: 2 } });
  });

  it('keeps latency buckets only when asked, for every result recorded (generated or from a live proxy), and adds them up over stages', () => {
    expect(recorder().stage(0).arms.blue.latencyBuckets).toBeUndefined();
    const clock = manualClock();
    const stages = [
      { durationMs: 60_000, greenWeight: 0.5 },
      { durationMs: 60_000, greenWeight: 1 },
    ];
    const metrics = new MetricsRecorder({ stages, prices: { blue: undefined, green: undefined }, now: clock.now, latencyBuckets: true });
    metrics.startStage(0);
    metrics.recordResult(0, ok('blue', { latencyMs: 250 }), PASS);
    metrics.recordResult(0, failed('blue', { latencyMs: 6000 }), PASS);
    metrics.recordDispatch(0, 'blue', false);
    metrics.startStage(1);
    metrics.recordResult(1, ok('blue', { latencyMs: 250 }), PASS);
    const stage0 = metrics.stage(0).arms.blue.latencyBuckets;
    expect(bucketTotal(stage0)).toBe(2);
    const total = sumArmCounts(metrics.stages().map((stage) => stage.arms.blue));
    expect(bucketTotal(total.latencyBuckets)).toBe(3);
    expect(total.inFlight).toBe(1);
    const at = (ms: number) => total.latencyBuckets!.counts[bucketOf(ms) - total.latencyBuckets!.first];
    expect(at(250)).toBe(2);
    expect(at(6000)).toBe(1);
    expect(bucketLowerMs(bucketOf(250))).toBeLessThan(250);
    expect(bucketUpperMs(bucketOf(250))).toBeGreaterThanOrEqual(250);
  });
});
