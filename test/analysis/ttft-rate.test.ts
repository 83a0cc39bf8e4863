// ttft_p95 as a rate over green's streamed requests (stats28): a success counts by its first token; a failed stream
// ended within the limit had none after it; one ended after it, or given up by its client, is an outcome unknown, as
// are the requests still running. Known counts in, the interval censoredBounds gives out.
import { describe, expect, it } from 'vitest';
import { censoredBounds } from '../../src/analysis/sequential.js';
import { checkAlpha, evaluate, priorAround } from '../../src/analysis/index.js';
import { ArmRecorder, emptyArmStats } from '../../src/metrics/index.js';
import { carriedCounts } from '../../src/metrics/carry.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { analysisConfig } from '../helpers/plans.js';
import { failed, ok } from '../metrics/helpers.js';

const LIMIT = 1_000;
const CONFIG = analysisConfig({ min_requests: 20, thresholds: { ttft_p95: LIMIT } });

/** `running` streamed requests and `runningPlain` not streamed still in flight after the results. */
function recorded(results: UpstreamResult[], running = 0, runningPlain = 0): ArmRecorder {
  const arm = new ArmRecorder(undefined, { latency: [], ttft: [LIMIT] });
  for (const result of results) arm.dispatched(result.stream);
  for (let i = 0; i < running; i++) arm.dispatched(true);
  for (let i = 0; i < runningPlain; i++) arm.dispatched(false);
  for (const result of results) arm.record(result, false);
  return arm;
}

function times<T>(count: number, make: () => T): T[] {
  return Array.from({ length: count }, make);
}

const stream = { stream: true };

function judge(arm: ArmRecorder) {
  const verdict = evaluate({ stageIndex: 0, stageCount: 1, green: arm.snapshot(), blue: emptyArmStats(), config: CONFIG });
  return { verdict, check: verdict.checks.find((c) => c.rule === 'ttft_p95')! };
}

describe('ttft_p95 judged as a rate over streamed requests', () => {
  it('counts failed streams, those ended after the limit or given up as unknown, and the requests still running', () => {
    const arm = recorded(
      [
        ...times(30, () => ok('green', { ...stream, ttftMs: 200, latencyMs: 900 })),
        ...times(4, () => ok('green', { ...stream, ttftMs: 1_500, latencyMs: 2_000 })),
        // Failed within the limit: no first token after it.
        ...times(3, () => failed('green', { ...stream, latencyMs: 300 })),
        // Failed after it (a timeout), or given up by the client: its first token may have come after the limit.
        ...times(2, () => failed('green', { ...stream, failure: 'timeout', latencyMs: 5_000 })),
        failed('green', { ...stream, failure: 'client_abort', latencyMs: 100 }),
        // Not streamed: not judged by this rule.
        ...times(5, () => ok('green', { latencyMs: 300 })),
      ],
      2,
    );
    expect(arm.snapshot().failedStreams).toEqual({ requests: 6, unknown: { '1000': 3 } });
    const { check } = judge(arm);
    // 4 first tokens after 1 s in 40 streamed requests, 3 unknown, and 2 requests still running (unknown too).
    const expected = censoredBounds(4, 3 + 2, 40 + 2, checkAlpha(CONFIG, 1), priorAround(0.05));
    expect(check).toMatchObject({ status: 'undecided', sample: 40, evidence: { estimate: 0.1, lower: expected.lower, upper: expected.upper } });
  });

  it('rolls back a green whose first tokens come late, saying what was unknown', () => {
    const arm = recorded(
      [
        ...times(20, () => ok('green', { ...stream, ttftMs: 1_500, latencyMs: 2_000 })),
        ...times(20, () => ok('green', { ...stream, ttftMs: 200, latencyMs: 900 })),
        failed('green', { ...stream, failure: 'timeout', latencyMs: 5_000 }),
      ],
      3,
    );
    const { verdict } = judge(arm);
    expect(verdict.breach?.message).toMatch(
      /^green ttft_p95: 48\.8% of 41 streamed requests with a first token after 1\.00s, 1 of them failed or given up after it, 3 more requests still running \(at least [\d.]+%, 99\.5% sure\) > 5\.0% allowed in stage 1$/,
    );
  });

  it('counts as unknown only the streamed requests in flight: mostly unstreamed traffic running hides no late first tokens', () => {
    // 12 of 40 streamed answers with a first token after 1 s; 2 streams and 150 unstreamed requests still running.
    const arm = recorded(
      [
        ...times(12, () => ok('green', { ...stream, ttftMs: 1_500, latencyMs: 2_000 })),
        ...times(28, () => ok('green', { ...stream, ttftMs: 200, latencyMs: 900 })),
      ],
      2,
      150,
    );
    expect(arm.snapshot()).toMatchObject({ inFlight: 152, streamedInFlight: 2 });
    const { verdict, check } = judge(arm);
    const alpha = checkAlpha(CONFIG, 1);
    const expected = censoredBounds(12, 2, 42, alpha, priorAround(0.05));
    expect(check).toMatchObject({ status: 'breach', sample: 40, evidence: { lower: expected.lower, upper: expected.upper } });
    expect(verdict.breach?.message).toMatch(
      /^green ttft_p95: 30\.0% of 40 streamed requests with a first token after 1\.00s, 2 more requests still running \(/,
    );
    // Counted as before, every request in flight an unknown, the same figures were no breach: caught late.
    expect(censoredBounds(12, 152, 192, alpha, priorAround(0.05)).lower).toBeLessThan(0.05);
  });

  it('keeps each stream in flight unknown, and every request in flight where streamed ones are not told apart', () => {
    // 11 late of the 40 answered: a breach judged on those alone (lower bound 7.1% at this alpha), not with 30 unknown.
    const answered = [...times(11, () => ok('green', { ...stream, ttftMs: 1_500 })), ...times(29, () => ok('green', { ...stream, ttftMs: 200 }))];
    const arm = recorded(answered, 30, 0);
    expect(arm.snapshot().streamedInFlight).toBeUndefined();
    const alpha = checkAlpha(CONFIG, 1);
    expect(censoredBounds(11, 0, 40, alpha, priorAround(0.05)).lower).toBeGreaterThan(0.05);
    const streamsRunning = censoredBounds(11, 30, 70, alpha, priorAround(0.05));
    expect(judge(arm).check).toMatchObject({ status: 'undecided', evidence: { lower: streamsRunning.lower, upper: streamsRunning.upper } });
    // A live arm's proxy that does not say which of its requests stream (streamedInFlight absent): all of them.
    const green = { ...recorded(answered).snapshot(), inFlight: 30 };
    const verdict = evaluate({ stageIndex: 0, stageCount: 1, green, blue: emptyArmStats(), config: CONFIG });
    expect(verdict.checks.find((c) => c.rule === 'ttft_p95')).toMatchObject({ status: 'undecided', evidence: { lower: streamsRunning.lower } });
  });

  it('carries the streamed ones of a dead run’s requests in flight as ttft unknowns, all of them where state.json does not say', () => {
    const answered = [...times(12, () => ok('green', { ...stream, ttftMs: 1_500 })), ...times(28, () => ok('green', { ...stream, ttftMs: 200 }))];
    const saved = recorded(answered, 2, 150).snapshot(true);
    const resumed = new ArmRecorder(undefined, { latency: [], ttft: [LIMIT] });
    resumed.carry(carriedCounts(saved));
    const green = resumed.snapshot(true);
    expect(green).toMatchObject({ inFlight: 0, lost: 152, lostStreamed: 2 });
    const alpha = checkAlpha(CONFIG, 1);
    const verdict = evaluate({ stageIndex: 0, stageCount: 1, green, blue: emptyArmStats(), config: CONFIG });
    expect(verdict.checks.find((c) => c.rule === 'ttft_p95')).toMatchObject({
      status: 'breach',
      evidence: { lower: censoredBounds(12, 2, 42, alpha, priorAround(0.05)).lower },
    });
    // Carried again, beside a resumed run's own: the streamed ones still told apart.
    resumed.dispatched(true);
    resumed.dispatched(false);
    const again = carriedCounts(resumed.snapshot(true));
    expect([again.lost, again.lostStreamed]).toEqual([154, 3]);
    // An older state.json (no streamedInFlight), or a value no run writes: every request it had in flight.
    const { streamedInFlight, ...older } = saved;
    expect(streamedInFlight).toBe(2);
    expect(carriedCounts(older).lostStreamed).toBe(152);
    expect(carriedCounts({ ...saved, streamedInFlight: -1 }).lostStreamed).toBe(152);
    expect(carriedCounts({ ...saved, lost: 5, lostStreamed: 9 }).lostStreamed).toBe(5 + 2);
  });

  it('carries failed streams over a resume, and refuses counts that contradict each other', () => {
    const arm = recorded([failed('green', { ...stream, latencyMs: 3_000 }), failed('green', { ...stream, latencyMs: 10 })]);
    const resumed = new ArmRecorder(undefined, { latency: [], ttft: [LIMIT] });
    resumed.carry(carriedCounts(arm.snapshot()));
    expect(resumed.snapshot().failedStreams).toEqual({ requests: 2, unknown: { '1000': 1 } });
    const edited = { ...emptyArmStats(), requests: 1, failures: 1, failedStreams: { requests: 2, unknown: {} } };
    expect(carriedCounts(edited).unreadable).toEqual(["counts: 2 failed streams in 1 failures: left out, so its tests start again on this run's requests"]);
  });
});
