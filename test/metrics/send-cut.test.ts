// A stage's end is judged on the requests sent before its time was up (MetricsRecorder.cut): those sent during the
// end's wait count in the stage's figures, not in that judgement; the answers of those sent before it still do.
import { describe, expect, it } from 'vitest';
import { MetricsRecorder } from '../../src/metrics/index.js';
import { failed, manualClock, ok, PASS } from './helpers.js';

function recorder() {
  const clock = manualClock();
  return new MetricsRecorder({
    stages: [{ durationMs: 60_000, greenWeight: 1 }],
    prices: { blue: undefined, green: undefined },
    now: clock.now,
    liveWindow: false,
    slowLimits: { latency: [1_000], ttft: [] },
    latencyBuckets: true,
  });
}

describe('a stage cut at its time-up', () => {
  it('judges the requests sent before the cut, their later answers included, and none sent after it', () => {
    const metrics = recorder();
    metrics.startStage(0);
    // Before the cut: three sent, one answered (ok); two still running.
    const early = [0, 1, 2].map(() => metrics.recordDispatch(0, 'green', false));
    metrics.recordResult(0, ok('green', { latencyMs: 200 }), PASS, early[0]);
    metrics.cut(0);
    // During the wait: four more sent; two fail fast, two still running at the judgement.
    const late = [0, 1, 2, 3].map(() => metrics.recordDispatch(0, 'green', false));
    metrics.recordResult(0, failed('green', { latencyMs: 50 }), PASS, late[0]);
    metrics.recordResult(0, failed('green', { latencyMs: 50 }), PASS, late[1]);
    // The early ones answer: one slow success, one cancelled by the ending (no result).
    metrics.recordResult(0, ok('green', { latencyMs: 3_000 }), PASS, early[1]);
    metrics.recordCancelled(0, 'green', false, early[2]);

    const judged = metrics.judgedStage(0).arms.green;
    expect(judged).toMatchObject({ requests: 2, successes: 2, failures: 0, inFlight: 0, slow: { latency: { '1000': 1 } } });
    expect(judged.latency).toMatchObject({ count: 2, max: 3_000 });
    expect(judged.latencyBuckets?.counts.reduce((a, b) => a + b, 0)).toBe(2);
    // The stage's figures keep every request.
    expect(metrics.stage(0).arms.green).toMatchObject({ requests: 4, successes: 2, failures: 2, inFlight: 2 });
    // A failure streak is the arm's, whichever side of the cut it came from.
    expect(judged.consecutiveFailures).toBe(0);

    metrics.uncut(0);
    expect(metrics.judgedStage(0)).toEqual(metrics.stage(0));
  });

  it('takes untagged results (a source that tags nothing) as sent before the cut', () => {
    const metrics = recorder();
    metrics.startStage(0);
    metrics.cut(0);
    metrics.recordResult(0, failed('green'), PASS);
    expect(metrics.judgedStage(0).arms.green).toMatchObject({ requests: 1, failures: 1 });
  });

  it('counts requests sent before a later cut in it (a stage extended, then cut again)', () => {
    const metrics = recorder();
    metrics.startStage(0);
    const first = metrics.recordDispatch(0, 'green', false);
    metrics.cut(0);
    const during = metrics.recordDispatch(0, 'green', false);
    metrics.uncut(0);
    metrics.cut(0);
    const after = metrics.recordDispatch(0, 'green', false);
    for (const tag of [first, during, after]) metrics.recordResult(0, ok('green'), PASS, tag);
    expect(metrics.judgedStage(0).arms.green).toMatchObject({ requests: 2, inFlight: 0 });
    expect(metrics.stage(0).arms.green).toMatchObject({ requests: 3, inFlight: 0 });
  });
});
