// Plan numbers a typo can make absurd (1e15 in flight, a 0 ms timeout, .inf) are refused with the key named;
// the largest sensible values still load.
import { describe, expect, it } from 'vitest';
import { renderSummary } from '../../src/cli/commands/validate.js';
import { summarisePlan } from '../../src/plan/summary.js';
import { planFromYaml, planRefusal } from '../helpers/plans.js';

const base = (traffic: string, extra = '', model = '{ latency: { p50: 5ms, p95: 10ms } }') => `
name: bounds
upstream:
  simulate: { seed: 1, models: { a: ${model}, b: { latency: { p50: 5ms, p95: 10ms } } } }
blue: { model: a, price: { input_per_mtok: 600, output_per_mtok: 1 } }
green: { model: b }
traffic: { ${traffic.includes('rate:') ? '' : 'rate: 20, '}${traffic} }
stages: [ { duration: 1m, green_weight: 0.5 } ]
${extra}`;

describe('plan number bounds', () => {
  it.each([
    ['max_in_flight: 1e15', '', 'traffic.max_in_flight: must be at most 100,000, found 1000000000000000'],
    ['max_in_flight: 2.5', '', 'traffic.max_in_flight: must be a whole number, found 2.5'],
    ['max_tokens: 1e12', '', 'traffic.max_tokens: must be at most 1,000,000'],
    ['rate: .inf', '', 'traffic.rate: expected number, found Infinity'],
    ['synthetic: { users: 1e15 }', '', 'traffic.synthetic.users: must be at most 100,000,000'],
    ['stream: .nan', '', 'traffic.stream'],
    ['max_in_flight: 10', 'analysis: { min_requests: 1e15 }', 'analysis.min_requests: must be at most 10,000,000'],
    ['max_in_flight: 10', 'analysis: { thresholds: { consecutive_errors: 1e15 } }', 'analysis.thresholds.consecutive_errors: must be at most 1,000,000'],
    ['max_in_flight: 10', 'analysis: { compare_to_blue: { max_latency_p95_ratio: 1e300 } }', 'max_latency_p95_ratio: must be at most 1,000'],
    ['max_in_flight: 10', 'health_check: { failures_to_rollback: 1e12 }', 'health_check.failures_to_rollback: must be at most 10,000'],
    ['max_in_flight: 10', 'health_check: { timeout: 0ms }', 'health_check.timeout: must be at least 1ms, found "0ms"'],
    ['max_in_flight: 10', "hooks: { on_stage: { exec: 'true', timeout: 0s } }", 'hooks.on_stage.timeout: must be at least 1ms'],
  ])('traffic { %s } %s: %s', (traffic, extra, expected) => {
    expect(planRefusal(base(traffic, extra))).toContain(expected);
  });

  it('takes a whole share above 1 or "N%" for a percent, and nothing else (newuser30)', () => {
    const refusal = (analysis: string) => planRefusal(base('max_in_flight: 10', `analysis: ${analysis}`)).replace(/^\S+ /, '');
    expect(refusal('{ confidence: 95 }')).toBe('analysis.confidence: must be less than 1, found 95; write it as a fraction: 0.95 for 95%');
    expect(refusal('{ thresholds: { error_rate: "2.5%" } }')).toBe(
      'analysis.thresholds.error_rate: expected a number between 0 and 1, found "2.5%"; write it as a fraction: 0.025 for 2.5%',
    );
    // 1 is no percent (a confidence of 1% makes no sense), and 1.5 is as likely a slip for 0.15.
    expect(refusal('{ confidence: 1 }')).toBe('analysis.confidence: must be less than 1, found 1');
    expect(refusal('{ thresholds: { error_rate: 1.5 } }')).toBe('analysis.thresholds.error_rate: must be between 0 and 1, found 1.5');
    // A count with its unit is told to drop it; a word is not taken for a number.
    expect(planRefusal(base('max_tokens: 256 tokens'))).toContain('traffic.max_tokens: expected number, found "256 tokens"; write the number alone (256)');
    expect(planRefusal(base('rate: fast'))).toMatch(/traffic\.rate: expected number, found "fast"$/);
  });

  it('tells a number grouped by separators to drop them, not to write its first group (hostile32: 1_000 said "(1)", 0,5 "(0)")', () => {
    expect(planRefusal(base('rate: 1_000'))).toContain('traffic.rate: expected number, found "1_000"; write the digits without separators (1000)');
    expect(planRefusal(base('max_tokens: "4,096"'))).toContain('found "4,096"; write the digits without separators (4096)');
    expect(planRefusal(base('rate: 1_000.5'))).toContain('(1000.5)');
    // A decimal comma is no group of three: it said "(0)" too.
    expect(planRefusal(base('rate: "0,5"'))).toContain('found "0,5"; write it with a decimal point (0.5)');
    // Three digits after a leading 0 are no group either: "0,500" is 0.5, not 500 (review32: it said "(0500)").
    expect(planRefusal(base('rate: "0,500"'))).toContain('found "0,500"; write it with a decimal point (0.500)');
  });

  it('refuses an impossible simulated token range and an overflowing seed', () => {
    expect(planRefusal(base('max_in_flight: 1').replace('seed: 1,', 'seed: 1e300,'))).toContain(
      'upstream.simulate.seed: must be a whole number from 0 to 4294967295',
    );
    expect(planRefusal(base('max_in_flight: 1', '', '{ output_tokens: { min: 10, max: 5 } }'))).toContain(
      'upstream.simulate.models.a.output_tokens.min: must not be more than output_tokens.max',
    );
    expect(planRefusal(base('max_in_flight: 1', '', '{ tokens_per_second: 1e-300 }'))).toContain('tokens_per_second: must be at least 0.1');
  });

  it('reads -0 as 0: it passes the bounds, and nothing prints "-0" (validate said "10/-0" requests)', () => {
    const plan = planFromYaml(`
name: minus-zero
upstream: { base_url: "http://127.0.0.1:9/v1" }
blue: { model: a, price: { input_per_mtok: -0.0, output_per_mtok: -0e0 } }
green: { model: b }
traffic: { rate: 1 }
stages: [ { duration: 10s, green_weight: -0, mirror: -0 }, { duration: 10s, green_weight: 1 } ]
analysis: { min_requests: -0, thresholds: { error_rate: -0 } }
proxy: { admin: { listen: 127.0.0.1:0, token_env: ADMIN_TOKEN } }
`);
    const zeros = [
      plan.stages[0]?.green_weight,
      plan.stages[0]?.mirror,
      plan.arms.blue.price?.input_per_mtok,
      plan.analysis.min_requests,
      plan.analysis.thresholds.error_rate,
      plan.arms.blue.price?.output_per_mtok,
    ];
    expect(zeros.map((zero) => Object.is(zero, 0))).toEqual(zeros.map(() => true));
    const text = renderSummary(summarisePlan(plan), 'a', 'b');
    expect(text).toContain('10/0');
    expect(text).not.toMatch(/-0\b/);
  });

  it('loads the largest values a real plan may use', () => {
    const plan = planFromYaml(
      base('rate: 100000, max_in_flight: 100000, max_tokens: 1000000, synthetic: { users: 100000000 }', 'analysis: { min_requests: 10000000 }'),
    );
    expect(plan.traffic).toMatchObject({ rate: 100_000, max_in_flight: 100_000, max_tokens: 1_000_000 });
    expect(plan.arms.blue.price?.input_per_mtok).toBe(600);
  });
});
