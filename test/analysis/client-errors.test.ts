// The client's own bad requests (UpstreamResult.clientFault) in the verdict: no request of the error rules, but in
// the latency rules' sample as in the arm's latencies (ArmRecorder.record), so a class of quick requests one arm
// refuses stays in that arm's percentiles as in the other's.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/index.js';
import { ArmRecorder, type ArmStats } from '../../src/metrics/index.js';
import type { AnalysisConfig } from '../../src/plan/schema.js';
import { analysisConfig } from '../helpers/plans.js';
import type { UpstreamResult } from '../../src/upstream/types.js';

const config: AnalysisConfig = { ...analysisConfig({ interval: 1000 }), thresholds: { error_rate: 0.05, latency_p95: 3000 } };

function result(latencyMs: number, outcome: 'ok' | 'refused'): UpstreamResult {
  const r: UpstreamResult = { arm: 'green', model: 'green', stream: false, attempts: 1, ok: outcome === 'ok', content: 'fine answer', latencyMs };
  if (outcome === 'refused') Object.assign(r, { failure: 'client_error', status: 400, clientFault: true });
  return r;
}

function green(rows: [number, 'ok' | 'refused', number][]): ArmStats {
  const recorder = new ArmRecorder(undefined, { latency: [3000], ttft: [] }, true);
  for (const [ms, outcome, count] of rows) for (let i = 0; i < count; i++) recorder.record(result(ms, outcome), false);
  return recorder.snapshot();
}

describe('the client’s own bad requests in the verdict', () => {
  it('are in latency_p95’s sample and count over its limit, and in no error_rate figure', () => {
    // 300 answers, 30 of them slow, and 100 quick refusals: 30 of 400 over 3 s (7.5%), no error at all.
    const arm = green([
      [200, 'ok', 270],
      [5000, 'ok', 30],
      [20, 'refused', 100],
    ]);
    expect(arm).toMatchObject({ requests: 300, failures: 0, clientErrors: 100 });
    const verdict = evaluate({ stageIndex: 0, stageCount: 1, green: arm, blue: green([[200, 'ok', 300]]), greenWeight: 0.5, config });
    const check = (rule: string) => verdict.checks.find((c) => c.rule === rule);
    expect(check('latency_p95')?.sample).toBe(400);
    expect(check('latency_p95')?.evidence?.estimate).toBeCloseTo(30 / 400);
    expect(check('error_rate')).toMatchObject({ sample: 300, figure: 0 });
  });
});
