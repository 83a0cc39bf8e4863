// ttft_p95 as a rate over green's streamed requests (stats28): a success counts by its first token; a failed stream
// ended within the limit had none after it; one ended after it, or given up by its client, is an outcome unknown, as
// are the requests still running. Known counts in, the interval censoredInterval gives out.
import { describe, expect, it } from 'vitest';
import { censoredInterval } from '../../src/analysis/sequential.js';
import { checkAlpha, evaluate, priorAround } from '../../src/analysis/index.js';
import { ArmRecorder, emptyArmStats } from '../../src/metrics/index.js';
import { carriedCounts } from '../../src/metrics/carry.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { analysisConfig } from '../helpers/plans.js';
import { failed, ok } from '../metrics/helpers.js';

const LIMIT = 1_000;
const CONFIG = analysisConfig({ min_requests: 20, thresholds: { ttft_p95: LIMIT } });

function recorded(results: UpstreamResult[], running = 0): ArmRecorder {
  const arm = new ArmRecorder(undefined, { latency: [], ttft: [LIMIT] });
  for (let i = 0; i < results.length + running; i++) arm.dispatched();
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
    const expected = censoredInterval(4, 3 + 2, 40 + 2, checkAlpha(CONFIG, 1), priorAround(0.05));
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
      /^green ttft_p95: 48\.8% of 41 streamed requests with a first token after 1\.00s, 1 of them failed or given up after it, 3 more requests still running \(99\.5% interval [\d.]+–[\d.]+%\) > 5\.0% allowed in stage 1$/,
    );
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
