import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/analysis/index.js';
import type { EvaluateInput, RuleName } from '../../src/analysis/index.js';
import { emptyArmStats } from '../../src/metrics/index.js';
import type { ArmStats, Percentiles } from '../../src/metrics/index.js';
import type { AnalysisConfig } from '../../src/plan/schema.js';

function arm(requests: number, failures = 0, extra: Partial<ArmStats> = {}): ArmStats {
  return { ...emptyArmStats(), requests, failures, successes: requests - failures, ...extra };
}

function pct(p95: number, count: number, extra: Partial<Percentiles> = {}): Percentiles {
  return { p50: p95 / 2, p95, p99: p95 * 1.2, max: p95 * 1.5, mean: p95 / 2, count, ...extra };
}

function config(partial: Partial<AnalysisConfig> = {}): AnalysisConfig {
  return { interval: 2000, min_requests: 20, thresholds: {}, ...partial };
}

function run(input: Partial<EvaluateInput> & { config: AnalysisConfig }) {
  return evaluate({ stageIndex: 2, green: arm(0), blue: arm(0), ...input });
}

function check(verdict: ReturnType<typeof evaluate>, rule: RuleName) {
  const found = verdict.checks.find((c) => c.rule === rule);
  if (!found) throw new Error(`no ${rule} check`);
  return found;
}

describe('evaluate: nothing configured', () => {
  it('has no checks and no breach', () => {
    expect(run({ config: config(), green: arm(100, 100) })).toEqual({ checks: [] });
  });
});

describe('error_rate', () => {
  const cfg = config({ thresholds: { error_rate: 0.05 } });

  it('waits below min_requests, showing the figure but no proximity', () => {
    const verdict = run({ config: cfg, green: arm(19, 19) });
    expect(verdict.breach).toBeUndefined();
    expect(check(verdict, 'error_rate')).toEqual({ rule: 'error_rate', status: 'waiting', figure: 1, limit: 0.05, unit: 'ratio', sample: 19, proximity: null });
  });

  it('waits with no requests even when min_requests is 0', () => {
    const verdict = run({ config: config({ min_requests: 0, thresholds: { error_rate: 0.05 } }) });
    expect(check(verdict, 'error_rate')).toMatchObject({ status: 'waiting', figure: null, sample: 0 });
  });

  it('is ok at the limit exactly', () => {
    const verdict = run({ config: cfg, green: arm(100, 5) });
    expect(check(verdict, 'error_rate')).toMatchObject({ status: 'ok', figure: 0.05, proximity: 1 });
    expect(verdict.breach).toBeUndefined();
  });

  it('is ok below, with proximity as figure over limit', () => {
    const result = check(run({ config: cfg, green: arm(100, 2) }), 'error_rate');
    expect(result.status).toBe('ok');
    expect(result.proximity).toBeCloseTo(0.4, 10);
  });

  it('breaches above the limit, with a message naming figure, limit, sample and stage', () => {
    const verdict = run({ config: cfg, green: arm(48, 15) });
    expect(verdict.breach).toEqual({
      rule: 'error_rate',
      figure: 15 / 48,
      limit: 0.05,
      unit: 'ratio',
      sample: 48,
      message: 'green error_rate 31.3% > 5.0% over 48 requests in stage 3',
    });
  });

  it('judges exactly min_requests', () => {
    expect(check(run({ config: cfg, green: arm(20, 2) }), 'error_rate').status).toBe('breach');
  });
});

describe('consecutive_errors', () => {
  const cfg = config({ thresholds: { consecutive_errors: 5 } });

  it('is judged at any sample size', () => {
    const verdict = run({ config: cfg, green: arm(5, 5, { consecutiveFailures: 5 }) });
    expect(check(verdict, 'consecutive_errors')).toMatchObject({ status: 'breach', figure: 5, limit: 5, unit: 'count', sample: 5, proximity: 1 });
    expect(verdict.breach?.message).toBe('green consecutive_errors 5 >= 5 in stage 3');
  });

  it('is ok one below the limit', () => {
    const verdict = run({ config: cfg, green: arm(4, 4, { consecutiveFailures: 4 }) });
    expect(check(verdict, 'consecutive_errors')).toMatchObject({ status: 'ok', proximity: 0.8 });
    expect(verdict.breach).toBeUndefined();
  });
});

describe('latency_p95 and latency_p99', () => {
  const cfg = config({ thresholds: { latency_p95: 5000, latency_p99: 8000 } });

  it('waits before min_requests and before any latency', () => {
    const none = run({ config: cfg });
    expect(check(none, 'latency_p95')).toMatchObject({ status: 'waiting', figure: null, sample: 0 });
    const few = run({ config: cfg, green: arm(10, 0, { latency: pct(9000, 10) }) });
    expect(check(few, 'latency_p95')).toMatchObject({ status: 'waiting', figure: 9000, sample: 10 });
    expect(few.breach).toBeUndefined();
  });

  it('is ok at the limit and breaches beyond it', () => {
    const at = run({ config: cfg, green: arm(120, 0, { latency: pct(5000, 120, { p99: 8000 }) }) });
    expect(check(at, 'latency_p95').status).toBe('ok');
    expect(check(at, 'latency_p99').status).toBe('ok');
    const over = run({ config: cfg, green: arm(120, 0, { latency: pct(6200, 120, { p99: 7000 }) }) });
    expect(check(over, 'latency_p95')).toMatchObject({ status: 'breach', unit: 'ms', proximity: 1.24 });
    expect(over.breach?.message).toBe('green latency_p95 6.20s > 5.00s over 120 requests in stage 3');
  });

  it('breaches on p99 alone', () => {
    const verdict = run({ config: cfg, green: arm(120, 0, { latency: pct(1000, 120, { p99: 8500 }) }) });
    expect(verdict.breach?.rule).toBe('latency_p99');
    expect(verdict.breach?.message).toBe('green latency_p99 8.50s > 8.00s over 120 requests in stage 3');
  });

  it('shows sub-second figures in ms', () => {
    const verdict = run({ config: config({ thresholds: { latency_p95: 500 } }), green: arm(30, 0, { latency: pct(750, 30) }) });
    expect(verdict.breach?.message).toBe('green latency_p95 750ms > 500ms over 30 requests in stage 3');
  });
});

describe('ttft_p95', () => {
  const cfg = config({ thresholds: { ttft_p95: 1000 } });

  it('counts streamed samples, not requests', () => {
    const waiting = run({ config: cfg, green: arm(500, 0, { ttft: pct(3000, 19) }) });
    expect(check(waiting, 'ttft_p95')).toMatchObject({ status: 'waiting', sample: 19 });
    const breach = run({ config: cfg, green: arm(500, 0, { ttft: pct(1500, 40) }) });
    expect(breach.breach?.message).toBe('green ttft_p95 1.50s > 1.00s over 40 streamed requests in stage 3');
    expect(check(run({ config: cfg, green: arm(500, 0, { ttft: pct(1000, 40) }) }), 'ttft_p95').status).toBe('ok');
  });
});

describe('quality_fail_rate', () => {
  const cfg = config({ thresholds: { quality_fail_rate: 0.1 } });

  it('is over successful responses, after min_requests of them', () => {
    // 30 requests but 15 failed: only 15 successes, below 20.
    expect(check(run({ config: cfg, green: arm(30, 15, { qualityFailures: 10 }) }), 'quality_fail_rate').status).toBe('waiting');
    const at = run({ config: cfg, green: arm(50, 0, { qualityFailures: 5 }) });
    expect(check(at, 'quality_fail_rate')).toMatchObject({ status: 'ok', figure: 0.1, sample: 50 });
    const over = run({ config: cfg, green: arm(50, 0, { qualityFailures: 6 }) });
    expect(over.breach?.message).toBe('green quality_fail_rate 12.0% > 10.0% over 50 successful responses in stage 3');
  });
});

describe('compare_to_blue.max_error_rate_increase', () => {
  const cfg = config({ compare_to_blue: { max_error_rate_increase: 0.02 } });

  it('waits until each arm has min_requests', () => {
    const verdict = run({ config: cfg, green: arm(50, 25), blue: arm(19, 0) });
    expect(check(verdict, 'compare_to_blue.max_error_rate_increase')).toMatchObject({ status: 'waiting', sample: 50, blueSample: 19 });
    expect(verdict.breach).toBeUndefined();
  });

  it('is ok at the limit despite float noise', () => {
    // 0.08 - 0.06 is 0.020000000000000004 in floating point: still "at the limit", not over it.
    const verdict = run({ config: cfg, green: arm(100, 8), blue: arm(100, 6) });
    expect(check(verdict, 'compare_to_blue.max_error_rate_increase').status).toBe('ok');
  });

  it('is ok when green is better than blue, with proximity 0', () => {
    const verdict = run({ config: cfg, green: arm(100, 0), blue: arm(100, 10) });
    expect(check(verdict, 'compare_to_blue.max_error_rate_increase')).toMatchObject({ status: 'ok', figure: -0.1, proximity: 0 });
  });

  it('breaches beyond, naming both rates and samples', () => {
    const verdict = run({ config: cfg, green: arm(50, 4), blue: arm(400, 4) });
    expect(verdict.breach?.rule).toBe('compare_to_blue.max_error_rate_increase');
    expect(verdict.breach?.message).toBe('green error rate 8.0% vs blue 1.0%: +7.0 points > +2.0 allowed (green 50, blue 400 requests) in stage 3');
    expect(verdict.breach?.sample).toBe(50);
  });
});

describe('latency with requests still running past the limit', () => {
  const cfg = config({ thresholds: { latency_p95: 2000 } });

  it('judges the figures that count running requests, and says how many are still running', () => {
    const running = { latency: pct(2100, 24), running: 3 };
    const verdict = run({ config: cfg, green: arm(21, 0, { latency: pct(300, 21) }), greenRunning: { latency_p95: running } });
    expect(check(verdict, 'latency_p95')).toMatchObject({ status: 'breach', figure: 2100, sample: 24 });
    expect(verdict.breach?.message).toBe('green latency_p95 at least 2.10s > 2.00s over 24 requests, 3 of them still running past 2.00s in stage 3');
  });

  it('counts running requests toward min_requests, and ignores a running figure with none running', () => {
    const few = run({ config: cfg, green: arm(15, 0, { latency: pct(300, 15) }), greenRunning: { latency_p95: { latency: pct(2500, 20), running: 5 } } });
    expect(check(few, 'latency_p95')).toMatchObject({ status: 'breach', sample: 20 });
    const none = run({ config: cfg, green: arm(30, 0, { latency: pct(300, 30) }), greenRunning: { latency_p95: { latency: pct(2500, 30), running: 0 } } });
    expect(check(none, 'latency_p95')).toMatchObject({ status: 'ok', figure: 300 });
  });
});

describe('compare_to_blue.max_latency_p95_ratio', () => {
  const cfg = config({ compare_to_blue: { max_latency_p95_ratio: 2 } });

  it('waits until both arms have min_requests latencies', () => {
    const verdict = run({ config: cfg, green: arm(30, 0, { latency: pct(9000, 30) }), blue: arm(10, 0, { latency: pct(1000, 10) }) });
    expect(check(verdict, 'compare_to_blue.max_latency_p95_ratio')).toMatchObject({ status: 'waiting', figure: 9, sample: 30, blueSample: 10 });
  });

  it('waits rather than divide by a zero blue p95', () => {
    const verdict = run({ config: cfg, green: arm(30, 0, { latency: pct(100, 30) }), blue: arm(30, 0, { latency: pct(0, 30) }) });
    expect(check(verdict, 'compare_to_blue.max_latency_p95_ratio')).toMatchObject({ status: 'waiting', figure: null });
  });

  it('is ok at the ratio and breaches beyond it', () => {
    const at = run({ config: cfg, green: arm(30, 0, { latency: pct(4000, 30) }), blue: arm(30, 0, { latency: pct(2000, 30) }) });
    expect(check(at, 'compare_to_blue.max_latency_p95_ratio')).toMatchObject({ status: 'ok', figure: 2, unit: 'factor' });
    const over = run({ config: cfg, green: arm(120, 0, { latency: pct(6200, 120) }), blue: arm(480, 0, { latency: pct(2000, 480) }) });
    expect(over.breach?.message).toBe('green latency_p95 6.20s vs blue 2.00s: 3.10x > 2.00x allowed (green 120, blue 480 requests) in stage 3');
  });
});

describe('health_check', () => {
  it('is listed only when health is given, and breaches at failures_to_rollback', () => {
    expect(run({ config: config() }).checks).toEqual([]);
    const below = run({ config: config(), health: { consecutiveFailures: 2, failuresToRollback: 3 } });
    expect(check(below, 'health_check')).toMatchObject({ status: 'ok', figure: 2, limit: 3, unit: 'count' });
    const at = run({ config: config(), health: { consecutiveFailures: 3, failuresToRollback: 3, lastError: 'models list answered 503', checks: 7 } });
    expect(at.breach).toMatchObject({ rule: 'health_check', figure: 3, limit: 3, sample: 7 });
    expect(at.breach?.message).toBe('health check failed 3 times in a row (last: models list answered 503) in stage 3');
  });
});

describe('priority', () => {
  const everything = config({
    min_requests: 10,
    thresholds: { error_rate: 0.05, consecutive_errors: 3, latency_p95: 1000, latency_p99: 2000, ttft_p95: 500, quality_fail_rate: 0.05 },
    compare_to_blue: { max_error_rate_increase: 0.01, max_latency_p95_ratio: 1.5 },
  });
  const order: RuleName[] = [
    'consecutive_errors',
    'error_rate',
    'compare_to_blue.max_error_rate_increase',
    'health_check',
    'latency_p95',
    'latency_p99',
    'ttft_p95',
    'compare_to_blue.max_latency_p95_ratio',
    'quality_fail_rate',
  ];
  const allBad = arm(100, 50, { consecutiveFailures: 3, latency: pct(5000, 100, { p99: 9000 }), ttft: pct(3000, 100), qualityFailures: 40 });
  const blue = arm(100, 0, { latency: pct(100, 100) });

  it('lists every configured check in priority order', () => {
    const verdict = run({ config: everything, green: allBad, blue, health: { consecutiveFailures: 5, failuresToRollback: 3 } });
    expect(verdict.checks.map((c) => c.rule)).toEqual(order);
    expect(verdict.checks.every((c) => c.status === 'breach')).toBe(true);
    expect(verdict.breach?.rule).toBe('consecutive_errors');
  });

  it('picks the first breach in that order as the rollback reason', () => {
    const health = { consecutiveFailures: 5, failuresToRollback: 3 };
    // Fix rules one at a time, from the top: the next one becomes the breach.
    let green = allBad;
    const fixes: Partial<ArmStats>[] = [
      { consecutiveFailures: 0 },
      { failures: 1, successes: 99 }, // error rate 1%: fixes error_rate, but +1.0 points is at the compare limit
    ];
    green = { ...green, ...fixes[0] };
    expect(run({ config: everything, green, blue, health }).breach?.rule).toBe('error_rate');
    green = { ...green, ...fixes[1] };
    expect(run({ config: everything, green, blue, health }).breach?.rule).toBe('health_check');
    const healthy = { consecutiveFailures: 0, failuresToRollback: 3 };
    expect(run({ config: everything, green, blue, health: healthy }).breach?.rule).toBe('latency_p95');
    green = { ...green, latency: pct(900, 100, { p99: 9000 }) };
    expect(run({ config: everything, green, blue, health: healthy }).breach?.rule).toBe('latency_p99');
    green = { ...green, latency: pct(900, 100, { p99: 1900 }) };
    expect(run({ config: everything, green, blue, health: healthy }).breach?.rule).toBe('ttft_p95');
    green = { ...green, ttft: pct(100, 100) };
    expect(run({ config: everything, green, blue, health: healthy }).breach?.rule).toBe('compare_to_blue.max_latency_p95_ratio');
    green = { ...green, latency: pct(150, 100, { p99: 1900 }) };
    expect(run({ config: everything, green, blue, health: healthy }).breach?.rule).toBe('quality_fail_rate');
    green = { ...green, qualityFailures: 0 };
    expect(run({ config: everything, green, blue, health: healthy }).breach).toBeUndefined();
  });

  it('is pure: the same input gives the same verdict and is not changed', () => {
    const input: EvaluateInput = { stageIndex: 0, green: allBad, blue, config: everything };
    const frozen = JSON.stringify(input);
    expect(evaluate(input)).toEqual(evaluate(input));
    expect(JSON.stringify(input)).toBe(frozen);
  });
});
