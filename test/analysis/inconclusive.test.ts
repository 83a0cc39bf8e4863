// What a stage does at its end with rules undecided: the plan's on_inconclusive, as a pure decision.
import { describe, expect, it } from 'vitest';
import { decideStageEnd, evaluate } from '../../src/analysis/index.js';
import { BucketCounter, emptyArmStats } from '../../src/metrics/index.js';
import { analysisConfig } from '../helpers/plans.js';
import type { CheckResult } from '../../src/analysis/index.js';

const check = (rule: CheckResult['rule'], status: CheckResult['status'], unit: CheckResult['unit'] = 'ratio'): CheckResult => ({
  rule,
  status,
  figure: 0,
  limit: 0.05,
  unit,
  sample: 10,
  proximity: null,
});

describe('decideStageEnd', () => {
  const undecided = [check('consecutive_errors', 'ok', 'count'), check('error_rate', 'undecided'), check('latency_p95', 'waiting', 'ms')];

  it('passes when every rule is decided, whatever the setting', () => {
    const decided = [check('error_rate', 'ok'), check('consecutive_errors', 'ok', 'count'), check('health_check', 'ok', 'count')];
    for (const on_inconclusive of ['pass', 'extend', 'pause'] as const) {
      expect(decideStageEnd(decided, { on_inconclusive, max_extensions: 2 }, 0)).toEqual({ action: 'pass', undecided: [] });
    }
  });

  it('names undecided and still-waiting rate rules; streak rules are never undecided', () => {
    expect(decideStageEnd(undecided, { on_inconclusive: 'pass', max_extensions: 2 }, 0)).toEqual({ action: 'pass', undecided: ['error_rate', 'latency_p95'] });
  });

  it('extends up to max_extensions times, then passes', () => {
    const config = { on_inconclusive: 'extend', max_extensions: 2 } as const;
    expect(decideStageEnd(undecided, config, 0)).toMatchObject({ action: 'extend', extension: 1 });
    expect(decideStageEnd(undecided, config, 1)).toMatchObject({ action: 'extend', extension: 2 });
    expect(decideStageEnd(undecided, config, 2)).toMatchObject({ action: 'pass' });
  });

  it('is not held by the built-in guard once judged: a green as good as blue leaves it undecided for ever', () => {
    const guard = (status: CheckResult['status']) => [check('guard.green_fails_more_than_blue', status), check('latency_p95', 'ok', 'ms')];
    for (const on_inconclusive of ['extend', 'pause'] as const) {
      const config = { on_inconclusive, max_extensions: 2 };
      expect(decideStageEnd(guard('undecided'), config, 0)).toEqual({ action: 'pass', undecided: ['guard.green_fails_more_than_blue'] });
      // Below min_requests nothing was judged: more time can still show green worse.
      expect(decideStageEnd(guard('waiting'), config, 0)).toMatchObject({ action: on_inconclusive });
      expect(decideStageEnd([...guard('undecided'), check('quality_fail_rate', 'undecided')], config, 0)).toMatchObject({ action: on_inconclusive });
    }
  });

  it('pauses once per stage for an operator, then passes after the stage runs again', () => {
    const config = { on_inconclusive: 'pause', max_extensions: 2 } as const;
    expect(decideStageEnd(undecided, config, 0)).toMatchObject({ action: 'pause', undecided: ['error_rate', 'latency_p95'] });
    expect(decideStageEnd(undecided, config, 1)).toMatchObject({ action: 'pass' });
  });
});

describe('decideStageEnd on a real verdict with the p95 ratio rule', () => {
  it('counts max_latency_p95_ratio waiting for blue as undecided: extend holds the stage, and the report names it', () => {
    const buckets = (count: number, ms: number) => {
      const counter = new BucketCounter();
      for (let i = 0; i < count; i++) counter.record(ms);
      return counter.snapshot();
    };
    const config = analysisConfig({ thresholds: { error_rate: 0.05 }, compare_to_blue: { max_latency_p95_ratio: 1.5 }, on_inconclusive: 'extend' });
    // Green answered 2,000 requests, none failed: error_rate is ok. Blue (slow today) has answered 5 of its 40.
    const green = { ...emptyArmStats(), requests: 2000, successes: 2000, latencyBuckets: buckets(2000, 300) };
    const blue = { ...emptyArmStats(), requests: 5, successes: 5, inFlight: 35, latencyBuckets: buckets(5, 900) };
    const verdict = evaluate({ stageIndex: 0, stageCount: 1, green, blue, config });
    expect(verdict.checks.map((c) => [c.rule, c.status])).toEqual([
      ['error_rate', 'ok'],
      ['compare_to_blue.max_latency_p95_ratio', 'waiting'],
    ]);
    expect(decideStageEnd(verdict.checks, config, 0)).toEqual({ action: 'extend', undecided: ['compare_to_blue.max_latency_p95_ratio'], extension: 1 });
  });
});
