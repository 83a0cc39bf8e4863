import { describe, expect, it } from 'vitest';
import { createRandom as random } from '../../src/core/random.js';
import { checkAlpha, evaluate, priorAround, rateBounds, sequentialRules } from '../../src/analysis/index.js';
import { formatPercent } from '../../src/core/format.js';
import type { EvaluateInput, RuleName } from '../../src/analysis/index.js';
import { BucketCounter, emptyArmStats } from '../../src/metrics/index.js';
import { sampleLognormal } from '../../src/sim/lognormal.js';
import type { ArmStats, Percentiles } from '../../src/metrics/index.js';
import type { AnalysisConfig } from '../../src/plan/schema.js';
import { analysisConfig } from '../helpers/plans.js';

function arm(requests: number, failures = 0, extra: Partial<ArmStats> = {}): ArmStats {
  return { ...emptyArmStats(), requests, failures, successes: requests - failures, ...extra };
}

function pct(p95: number, count: number, extra: Partial<Percentiles> = {}): Percentiles {
  return { p50: p95 / 2, p95, p99: p95 * 1.2, max: p95 * 1.5, mean: p95 / 2, count, ...extra };
}

function run(input: Partial<EvaluateInput> & { config: AnalysisConfig }) {
  return evaluate({ stageIndex: 1, stageCount: 1, green: arm(0), blue: arm(0), ...input });
}

function check(verdict: ReturnType<typeof evaluate>, rule: RuleName) {
  const found = verdict.checks.find((c) => c.rule === rule);
  if (!found) throw new Error(`no ${rule} check`);
  return found;
}

function bucketsOf(values: readonly number[]) {
  const counter = new BucketCounter();
  for (const value of values) counter.record(value);
  return counter.snapshot();
}

function slow(latency: Record<string, number>, ttft: Record<string, number> = {}) {
  return { slow: { latency, ttft } };
}

describe('the false-rollback budget', () => {
  it('splits 1 - confidence evenly across the sequential rules and the stages', () => {
    const cfg = analysisConfig({
      thresholds: { error_rate: 0.05, consecutive_errors: 5, latency_p95: 3000 },
      compare_to_blue: { max_error_rate_increase: 0.02, max_latency_p95_ratio: 2 },
    });
    // consecutive_errors (a streak) takes no share.
    expect(sequentialRules(cfg)).toEqual(['error_rate', 'compare_to_blue.max_error_rate_increase', 'latency_p95', 'compare_to_blue.max_latency_p95_ratio']);
    expect(checkAlpha(cfg, 5)).toBeCloseTo(0.01 / 20, 12);
    expect(checkAlpha(analysisConfig({ confidence: 0.95, thresholds: { error_rate: 0.05 } }), 1)).toBeCloseTo(0.05, 12);
  });
});

describe('a plan with no rule: the built-in guard', () => {
  it('rolls back a green shown to fail more often than blue', () => {
    const verdict = run({ config: analysisConfig(), green: arm(30, 30), blue: arm(270, 3) });
    expect(verdict.checks.map((c) => c.rule)).toEqual(['guard.green_fails_more_than_blue']);
    expect(verdict.breach?.rule).toBe('guard.green_fails_more_than_blue');
    expect(verdict.breach?.message).toMatch(
      /^green error rate \(built-in guard: the plan sets no error-rate rule\) 100\.0% vs blue 1\.1%: \+98\.9 points \(at least \+\d+\.\d, 99% sure\) > \+0\.0 allowed \(green 30, blue 270 requests\) in stage 2/,
    );
  });

  it('leaves a green that fails like blue alone', () => {
    const verdict = run({ config: analysisConfig(), green: arm(300, 6), blue: arm(900, 18) });
    expect(verdict.breach).toBeUndefined();
    expect(check(verdict, 'guard.green_fails_more_than_blue').status).toBe('undecided');
  });

  it('is not added once the plan judges an error rate', () => {
    expect(run({ config: analysisConfig({ thresholds: { error_rate: 0.05 } }) }).checks.map((c) => c.rule)).toEqual(['error_rate']);
    expect(run({ config: analysisConfig({ compare_to_blue: { max_error_rate_increase: 0.02 } }) }).checks.map((c) => c.rule)).toEqual([
      'compare_to_blue.max_error_rate_increase',
    ]);
  });

  it('guards a plan whose rules judge no error rate: a green failing every request fails no latency or quality rule', () => {
    // Fast failures are under any latency limit, and quality is judged on successes only.
    const cfg = analysisConfig({ thresholds: { latency_p95: 3000, quality_fail_rate: 0.05, consecutive_errors: 1000 } });
    const verdict = run({ config: cfg, green: arm(200, 200), blue: arm(900, 9) });
    expect(verdict.checks.map((c) => c.rule)).toEqual(['consecutive_errors', 'guard.green_fails_more_than_blue', 'latency_p95', 'quality_fail_rate']);
    expect(verdict.breach?.rule).toBe('guard.green_fails_more_than_blue');
    expect(sequentialRules(cfg)).toEqual(['guard.green_fails_more_than_blue', 'latency_p95', 'quality_fail_rate']);
  });
});

describe('error_rate', () => {
  const cfg = analysisConfig({ thresholds: { error_rate: 0.05 } });

  it('waits below min_requests, already showing the interval', () => {
    const result = check(run({ config: cfg, green: arm(19, 19) }), 'error_rate');
    expect(result).toMatchObject({ status: 'waiting', figure: 1, sample: 19, proximity: null });
    expect(result.evidence?.lower).toBeGreaterThan(0.15);
  });

  it('waits with no requests even when min_requests is 0', () => {
    const verdict = run({ config: analysisConfig({ min_requests: 0, thresholds: { error_rate: 0.05 } }) });
    expect(check(verdict, 'error_rate')).toMatchObject({ status: 'waiting', figure: null, sample: 0 });
  });

  it('does not roll back on a small sample that merely looks bad (the old false alarm)', () => {
    // 4 of 53 is 7.5%, over 5%, but well within what a 5% green produces by chance.
    const verdict = run({ config: cfg, green: arm(53, 4) });
    expect(verdict.breach).toBeUndefined();
    expect(check(verdict, 'error_rate')).toMatchObject({ status: 'undecided', figure: 4 / 53 });
  });

  it('is ok once the upper bound is at or under the limit', () => {
    const result = check(run({ config: cfg, green: arm(2000, 20) }), 'error_rate');
    expect(result.status).toBe('ok');
    expect(result.evidence!.upper).toBeLessThanOrEqual(0.05);
    expect(result.proximity).toBeCloseTo(0.2, 10);
  });

  it('breaches once the lower bound is above the limit, with that bound in the message', () => {
    const verdict = run({ config: cfg, green: arm(132, 30) });
    // checkAlpha: 1 - 0.99 is 0.010000000000000009 in floating point, and the bounds' search follows it to the last digit.
    const { lower, upper } = rateBounds(30, 132, checkAlpha(cfg, 1), priorAround(0.05));
    expect(lower).toBeGreaterThan(0.05);
    expect(verdict.breach).toMatchObject({ rule: 'error_rate', figure: 30 / 132, limit: 0.05, unit: 'ratio', sample: 132 });
    expect(verdict.breach?.evidence).toMatchObject({ estimate: 30 / 132, lower, upper, limit: 0.05, confidence: 0.99 });
    expect(verdict.breach?.message).toBe(`green error_rate 22.7% (at least ${formatPercent(lower)}, 99% sure) > 5.0% over 132 requests in stage 2`);
  });

  it('spends less per check with more rules and stages, so needs more evidence', () => {
    const one = run({ config: cfg, green: arm(100, 16) });
    const many = run({ config: cfg, green: arm(100, 16), stageCount: 20 });
    expect(one.breach?.rule).toBe('error_rate');
    expect(many.breach).toBeUndefined();
    expect(check(many, 'error_rate').evidence?.confidence).toBeCloseTo(0.9995, 10);
  });
});

describe('blame in failure-driven breaches', () => {
  const cfg = analysisConfig({ thresholds: { error_rate: 0.05, consecutive_errors: 3 } });

  it('names the failure classes with counts and one upstream message', () => {
    const green = arm(100, 40, {
      consecutiveFailures: 0,
      failuresByClass: { server_error: 30, timeout: 10 },
      failureSamples: { server_error: 'HTTP 500: upstream  exploded\nbadly' },
    });
    const verdict = run({ config: cfg, green, blue: arm(900, 9, { failuresByClass: { timeout: 9 } }) });
    expect(verdict.breach?.message).toMatch(
      /over 100 requests in stage 2; green failures: server_error 30, timeout 10 \(server_error: "HTTP 500: upstream exploded badly"\)$/,
    );
  });

  it('quotes the upstream message on one line, without terminal escapes, cut to 120 characters', () => {
    const sample = `HTTP 500: \u001b[31mred\u001b[0m ${'x'.repeat(200)}`;
    const green = arm(100, 40, { consecutiveFailures: 0, failuresByClass: { server_error: 40 }, failureSamples: { server_error: sample } });
    const verdict = run({ config: cfg, green, blue: arm(900, 0) });
    const quoted = /\(server_error: "(.*)"\)$/.exec(verdict.breach?.message ?? '')?.[1] ?? '';
    expect(quoted).not.toContain('\u001b');
    expect(quoted.startsWith('HTTP 500: [31mred [0m xxx')).toBe(true);
    expect(quoted).toHaveLength(120);
    expect(quoted.endsWith('…')).toBe(true);
  });

  it('says when blue fails the same way, and what to check', () => {
    const green = arm(10, 3, { consecutiveFailures: 3, failuresByClass: { auth: 3 }, failureSamples: { auth: 'HTTP 401: invalid API key' } });
    const verdict = run({ config: cfg, green, blue: arm(90, 27, { failuresByClass: { auth: 27 } }) });
    expect(verdict.breach?.message).toBe(
      'green consecutive_errors 3 >= 3 in stage 2; green failures: auth 3 (auth: "HTTP 401: invalid API key"); ' +
        'blue fails the same way (auth 27 of 90 requests): likely the upstream or its key, not green; check the API key and its permissions',
    );
  });
});

describe('consecutive_errors', () => {
  const cfg = analysisConfig({ thresholds: { consecutive_errors: 5 } });

  it('is judged at once, at any sample size', () => {
    const verdict = run({ config: cfg, green: arm(5, 5, { consecutiveFailures: 5 }) });
    expect(check(verdict, 'consecutive_errors')).toMatchObject({ status: 'breach', figure: 5, limit: 5, unit: 'count', sample: 5, proximity: 1 });
    expect(verdict.breach?.message).toBe('green consecutive_errors 5 >= 5 in stage 2');
  });

  it('is ok one below the limit', () => {
    const verdict = run({ config: cfg, green: arm(4, 4, { consecutiveFailures: 4 }) });
    expect(check(verdict, 'consecutive_errors')).toMatchObject({ status: 'ok', proximity: 0.8 });
    expect(verdict.breach).toBeUndefined();
  });
});

describe('latency_p95 and latency_p99: the share of requests over the limit', () => {
  const cfg = analysisConfig({ thresholds: { latency_p95: 5000, latency_p99: 8000 } });

  it('judges the share over the limit against 5% (p95) and 1% (p99), showing the p95 itself as the figure', () => {
    const green = arm(400, 0, { latency: pct(6200, 400, { p99: 7000 }), ...slow({ 5000: 80, 8000: 0 }) });
    const verdict = run({ config: cfg, green });
    expect(check(verdict, 'latency_p95')).toMatchObject({ status: 'breach', figure: 6200, limit: 5000, unit: 'ms', sample: 400 });
    expect(check(verdict, 'latency_p95').evidence).toMatchObject({ estimate: 0.2, limit: 0.05, overMs: 5000 });
    expect(verdict.breach?.message).toMatch(
      /^green latency_p95: 20\.0% of 400 requests over 5\.00s \(at least [\d.]+%, 99\.66% sure\) > 5\.0% allowed in stage 2$/,
    );
    expect(check(verdict, 'latency_p99').evidence).toMatchObject({ estimate: 0, limit: 0.01 });
  });

  it('breaches on p99 alone', () => {
    const green = arm(2000, 0, { latency: pct(1000, 2000, { p99: 8500 }), ...slow({ 5000: 60, 8000: 60 }) });
    expect(run({ config: cfg, green }).breach?.rule).toBe('latency_p99');
  });

  it('counts requests still running past the limit as over it, and says how many', () => {
    const running = { latency: pct(2100, 30), running: 12 };
    const verdict = run({
      config: analysisConfig({ thresholds: { latency_p95: 2000 } }),
      green: arm(18, 0, { latency: pct(300, 18) }),
      greenRunning: { latency_p95: running },
    });
    expect(check(verdict, 'latency_p95')).toMatchObject({ status: 'breach', figure: 2100, sample: 30 });
    expect(verdict.breach?.message).toMatch(
      /^green latency_p95: 40\.0% of 30 requests over 2\.00s, 12 of them still running \(at least [\d.]+%, 99\.5% sure\) > 5\.0% allowed in stage 2$/,
    );
  });
});

describe('ttft_p95', () => {
  it('counts streamed samples, not requests', () => {
    const cfg = analysisConfig({ thresholds: { ttft_p95: 1000 } });
    const waiting = run({ config: cfg, green: arm(500, 0, { ttft: pct(3000, 19), ...slow({}, { 1000: 19 }) }) });
    expect(check(waiting, 'ttft_p95')).toMatchObject({ status: 'waiting', sample: 19 });
    const breach = run({ config: cfg, green: arm(500, 0, { ttft: pct(1500, 60), ...slow({}, { 1000: 30 }) }) });
    expect(breach.breach?.message).toMatch(/^green ttft_p95: 50\.0% of 60 streamed requests with a first token after 1\.00s/);
  });
});

describe('quality_fail_rate', () => {
  it('is over successful responses, after min_requests of them', () => {
    const cfg = analysisConfig({ thresholds: { quality_fail_rate: 0.1 } });
    expect(check(run({ config: cfg, green: arm(30, 15, { qualityFailures: 10 }) }), 'quality_fail_rate').status).toBe('waiting');
    const over = run({ config: cfg, green: arm(80, 0, { qualityFailures: 40 }) });
    expect(over.breach?.message).toMatch(/^green quality_fail_rate 50\.0% \(at least [\d.]+%, 99\.5% sure\) > 10\.0% over 80 successful responses in stage 2$/);
  });
});

describe('compare_to_blue', () => {
  it('max_error_rate_increase waits for both arms, then needs green shown worse by more than the margin', () => {
    const cfg = analysisConfig({ compare_to_blue: { max_error_rate_increase: 0.02 } });
    expect(check(run({ config: cfg, green: arm(50, 25), blue: arm(19, 0) }), 'compare_to_blue.max_error_rate_increase')).toMatchObject({
      status: 'waiting',
      sample: 50,
      blueSample: 19,
    });
    // 8% vs 1% on 50 green requests: suggestive, not shown.
    expect(run({ config: cfg, green: arm(50, 4), blue: arm(400, 4) }).breach).toBeUndefined();
    const verdict = run({ config: cfg, green: arm(200, 60), blue: arm(800, 8) });
    expect(verdict.breach?.rule).toBe('compare_to_blue.max_error_rate_increase');
    expect(verdict.breach?.message).toMatch(
      /^green error rate 30\.0% vs blue 1\.0%: \+29\.0 points \(at least \+\d+\.\d, 99% sure\) > \+2\.0 allowed \(green 200, blue 800 requests\) in stage 2$/,
    );
  });

  it('max_quality_fail_rate_increase judges quality on both arms: short answers both get do not count', () => {
    const cfg = analysisConfig({ compare_to_blue: { max_quality_fail_rate_increase: 0.03 } });
    const same = run({ config: cfg, green: arm(300, 0, { qualityFailures: 30 }), blue: arm(900, 0, { qualityFailures: 90 }) });
    expect(same.breach).toBeUndefined();
    const worse = run({ config: cfg, green: arm(300, 0, { qualityFailures: 120 }), blue: arm(900, 0, { qualityFailures: 90 }) });
    expect(worse.breach?.rule).toBe('compare_to_blue.max_quality_fail_rate_increase');
  });

  describe("max_latency_p95_ratio, judged on both arms' p95 intervals", () => {
    const cfg = analysisConfig({ compare_to_blue: { max_latency_p95_ratio: 1.5 } });
    const seeded = (seed: number, n: number, p50: number, p95: number) => {
      const rng = random(seed);
      return bucketsOf(Array.from({ length: n }, () => sampleLognormal(rng, p50, p95)));
    };
    const blue = arm(4000, 0, { latencyBuckets: seeded(1, 4000, 300, 900) });

    it('leaves a green as fast as blue alone, and shows it within the ratio once the evidence suffices', () => {
      const green = arm(1500, 0, { latencyBuckets: seeded(2, 1500, 300, 900) });
      const verdict = run({ config: cfg, green, blue });
      const ratio = check(verdict, 'compare_to_blue.max_latency_p95_ratio');
      expect(verdict.breach).toBeUndefined();
      expect(ratio.status).toBe('ok');
      expect(ratio.figure).toBeGreaterThan(0.85);
      expect(ratio.figure).toBeLessThan(1.15);
      expect(ratio.evidence?.lower).toBeLessThan(1);
      expect(ratio.evidence?.upper).toBeLessThanOrEqual(1.5 * 1.0001);
    });

    it("rolls back a green three times slower, with both arms' intervals in the message", () => {
      const green = arm(300, 0, { latencyBuckets: seeded(3, 300, 900, 2700) });
      const verdict = run({ config: cfg, green, blue });
      expect(verdict.breach?.rule).toBe('compare_to_blue.max_latency_p95_ratio');
      expect(verdict.breach?.message).toMatch(
        /^green latency_p95 2\.\d\ds \(at least \d\.\d\ds\) > 1\.50x blue's \d+ms \(at most \d+ms\): [23]\.\d\dx \(at least [12]\.\d\dx, 99\.5% sure\) \(green 300, blue 4000 requests\) in stage 2$/,
      );
      const q = verdict.breach?.evidence?.quantiles;
      expect(q && q.green.lower > 1.5 * q.blue.upper).toBe(true);
    });

    it('counts green requests still running at their ages towards its lower bound', () => {
      const green = arm(40, 0, { inFlight: 40, latencyBuckets: seeded(4, 40, 300, 900) });
      const unknown = check(run({ config: cfg, green, blue }), 'compare_to_blue.max_latency_p95_ratio');
      const aged = check(run({ config: cfg, green, blue, greenRunningAgesMs: new Array<number>(40).fill(5000) }), 'compare_to_blue.max_latency_p95_ratio');
      expect(unknown.status).toBe('undecided');
      expect(aged.status).toBe('breach');
    });

    it('waits for min_requests on both arms, with the figures shown', () => {
      const verdict = run({ config: cfg, green: arm(10, 0, { latencyBuckets: seeded(5, 10, 900, 2700) }), blue });
      const ratio = check(verdict, 'compare_to_blue.max_latency_p95_ratio');
      expect(ratio.status).toBe('waiting');
      expect(ratio.figure).not.toBeNull();
      expect(check(run({ config: cfg, green: arm(100), blue }), 'compare_to_blue.max_latency_p95_ratio').figure).toBeNull();
    });
  });
});

describe('health_check', () => {
  it('breaches at failures_to_rollback', () => {
    const cfg = analysisConfig({ thresholds: { consecutive_errors: 9 } });
    const at = run({ config: cfg, health: { consecutiveFailures: 3, failuresToRollback: 3, lastError: 'models list answered 503', checks: 7 } });
    expect(at.breach).toMatchObject({ rule: 'health_check', figure: 3, limit: 3, sample: 7 });
    expect(at.breach?.message).toBe('health check failed 3 times in a row (last: models list answered 503) in stage 2');
  });
});

describe('priority and purity', () => {
  const everything = analysisConfig({
    min_requests: 10,
    thresholds: { error_rate: 0.05, consecutive_errors: 3, latency_p95: 1000, latency_p99: 2000, ttft_p95: 500, quality_fail_rate: 0.05 },
    compare_to_blue: { max_error_rate_increase: 0.01, max_latency_p95_ratio: 1.5, max_quality_fail_rate_increase: 0.02 },
  });
  const allBad = arm(400, 200, {
    consecutiveFailures: 3,
    latency: pct(5000, 400, { p99: 9000 }),
    ttft: pct(3000, 200),
    qualityFailures: 150,
    ...slow({ 1000: 300, 2000: 200 }, { 500: 150 }),
    latencyBuckets: bucketsOf(new Array<number>(400).fill(5000)),
  });
  const blue = arm(400, 0, { latency: pct(100, 400), latencyBuckets: bucketsOf(new Array<number>(400).fill(100)) });

  it('lists every configured check in priority order, each breached', () => {
    const verdict = run({ config: everything, green: allBad, blue, health: { consecutiveFailures: 5, failuresToRollback: 3 } });
    expect(verdict.checks.map((c) => c.rule)).toEqual([
      'consecutive_errors',
      'error_rate',
      'compare_to_blue.max_error_rate_increase',
      'health_check',
      'latency_p95',
      'latency_p99',
      'ttft_p95',
      'compare_to_blue.max_latency_p95_ratio',
      'quality_fail_rate',
      'compare_to_blue.max_quality_fail_rate_increase',
    ]);
    expect(verdict.checks.every((c) => c.status === 'breach')).toBe(true);
    expect(verdict.breach?.rule).toBe('consecutive_errors');
  });

  it('is pure: the same input gives the same verdict and is not changed', () => {
    const input: EvaluateInput = { stageIndex: 0, stageCount: 5, green: allBad, blue, config: everything };
    const frozen = JSON.stringify(input);
    expect(evaluate(input)).toEqual(evaluate(input));
    expect(JSON.stringify(input)).toBe(frozen);
  });
});

describe('seeded rollouts judged every few requests', () => {
  // A 3-stage rollout of 600 requests a stage, judged after every 5 requests, as often as an engine might.
  function rolledBack(cfg: AnalysisConfig, greenError: number, blueError: number, seed: number): boolean {
    const next = random(seed);
    const weights = [0.2, 0.5, 1];
    for (let s = 0; s < weights.length; s++) {
      const g = { requests: 0, failures: 0 };
      const b = { requests: 0, failures: 0 };
      for (let i = 1; i <= 600; i++) {
        const green = next() < (weights[s] as number);
        const armCounts = green ? g : b;
        armCounts.requests++;
        if (next() < (green ? greenError : blueError)) armCounts.failures++;
        if (
          i % 5 === 0 &&
          evaluate({ stageIndex: s, stageCount: 3, green: arm(g.requests, g.failures), blue: arm(b.requests, b.failures), config: cfg }).breach
        )
          return true;
      }
    }
    return false;
  }

  it('rolls back a green just under its limits in at most 1 - confidence of rollouts', () => {
    // confidence 0.9 so that 300 rollouts can tell a broken test (old rules: most of them) from a sound one.
    const cfg = analysisConfig({ confidence: 0.9, thresholds: { error_rate: 0.05 }, compare_to_blue: { max_error_rate_increase: 0.02 } });
    let falseRollbacks = 0;
    for (let i = 0; i < 300; i++) if (rolledBack(cfg, 0.045, 0.045, 100 + i)) falseRollbacks++;
    expect(falseRollbacks / 300).toBeLessThanOrEqual(0.1);
  });

  it('still catches a 10x regression in every rollout', () => {
    const cfg = analysisConfig({ thresholds: { error_rate: 0.05 }, compare_to_blue: { max_error_rate_increase: 0.02 } });
    for (let i = 0; i < 50; i++) expect(rolledBack(cfg, 0.2, 0.02, 900 + i)).toBe(true);
  });
});
