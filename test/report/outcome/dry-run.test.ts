import { describe, expect, it } from 'vitest';
import { summarisePlan } from '../../../src/plan/summary.js';
import { renderSchedule } from '../../../src/report/outcome/index.js';
import { planFromYaml } from '../../helpers/plans.js';
import { loadTestPlan } from './fixtures.js';

describe('renderSchedule', () => {
  const plan = loadTestPlan();
  const text = renderSchedule(summarisePlan(plan), plan);
  const lines = text.split('\n');

  it('lists each stage with its cumulative time and expected requests per arm', () => {
    expect(lines[0]).toBe(`dry run of plan gpt-4o-to-gpt-4.1 (sha256 ${plan.source.hash.slice(0, 12)})`);
    const header = lines.findIndex((l) => l.trim().startsWith('stage'));
    expect(lines[header]!.trim().split(/\s{2,}/)).toEqual(['stage', 'green', 'duration', 'from', 'to', 'requests blue/green']);
    const rows = lines.slice(header + 1, header + 6).map((l) => l.trim().split(/\s+/));
    // 20 requests/s for 1 minute a stage = 1,200 requests split by the stage's weight.
    expect(rows).toEqual([
      ['1', '10%', '1m00s', '0s', '1m00s', '1,080/120'],
      ['2', '25%', '1m00s', '1m00s', '2m00s', '900/300'],
      ['3', '50%', '1m00s', '2m00s', '3m00s', '600/600'],
      ['4', '75%', '1m00s', '3m00s', '4m00s', '300/900'],
      ['5', '100%', '1m00s', '4m00s', '5m00s', '0/1,200'],
    ]);
  });

  it('gives the total time, requests and estimated cost, and sends no traffic', () => {
    expect(text).toContain('total 5m00s if every stage passes: 2,880 blue and 3,120 green requests');
    expect(text).toMatch(
      /estimated cost: blue \$\d+\.\d\d, green \$\d+\.\d\d, \$\d+\.\d\d in all \(assuming ~200 prompt and ~128 completion tokens a request\)/,
    );
    expect(text).toContain('(green 20.0% cheaper than blue)');
    expect(text).toContain(
      "rolls back when shown: error_rate > 5.0%, consecutive_errors >= 5 (at once), latency_p95 > 5.00s, error rate over blue's by > 2.0 points; undecided at a stage end: pass; nothing judged in any stage: rolls back",
    );
    expect(lines.at(-2)).toBe('  no traffic sent (dry run)');
  });

  // Credentials in the URL are refused when the plan loads (test/plan/bad-plans/43-base-url-credentials.yaml).
  it('shows where requests would go without query strings', () => {
    const remote = planFromYaml(`
name: remote
upstream: { base_url: "https://llm.example.com/v1?token=abc", api_key_env: LLM_KEY }
blue: { model: a }
green: { model: b }
traffic: { rate: 1 }
stages: [ { duration: 10s, green_weight: 0.5 } ]
`);
    const out = renderSchedule(summarisePlan(remote), remote);
    expect(out).toContain('blue  a via https://llm.example.com/v1 (openai, key from $LLM_KEY), no price');
    expect(out).not.toContain('token=abc');
    expect(out).toContain('estimated cost: blue no price, green no price (');
    expect(out).toContain("green's error rate above blue's by any margin (the built-in guard, as no error-rate rule is set)");
  });
});
