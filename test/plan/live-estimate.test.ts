// A live rollout judges the application's requests, which the plan cannot know. Without a traffic block,
// validate and --dry-run make no count or cost up (they used to assume 1 request a second without saying so):
// they give the stages' durations, what each stage needs for green to reach min_requests, and the cost per
// 1,000 requests. With one, the counts are said to be estimates at the application's declared rate.
import { describe, expect, it } from 'vitest';
import { renderSummary } from '../../src/cli/commands/validate.js';
import { missingAdminTokenWarnings } from '../../src/cli/plan-checks.js';
import { summarisePlan } from '../../src/plan/summary.js';
import { planWarnings } from '../../src/plan/warnings.js';
import { renderSchedule } from '../../src/report/outcome/index.js';
import { planFromYaml } from '../helpers/plans.js';

const plan = (traffic: string, controller = '') =>
  planFromYaml(`
name: live
upstream: { base_url: "http://127.0.0.1:9/v1" }
blue: { model: a, price: { input_per_mtok: 2, output_per_mtok: 8 } }
green: { model: b, price: { input_per_mtok: 1, output_per_mtok: 4 } }
${traffic}
stages:
  - { duration: 10s, green_weight: 0, mirror: 0.5 }
  - { duration: 20s, green_weight: 0.1 }
  - { duration: 30s, green_weight: 0.3 }
  - { duration: 10s, green_weight: 0 }
analysis: { min_requests: 20 }
proxy:
  admin: { listen: 127.0.0.1:0, token_env: ADMIN_TOKEN }${controller}
`);

describe('estimates of a live plan', () => {
  it('without a traffic block: no counts or cost made up; what each stage needs for green to be judged', () => {
    const live = plan('');
    const summary = summarisePlan(live);
    expect(summary.traffic).toEqual({ basis: 'unknown', rate: null });
    expect(summary.requests).toBeNull();
    expect(summary.mirrored).toBeNull();
    expect(summary.costUsd).toEqual({ blue: null, green: null });
    // min_requests 20 over green's share: 0.5 mirrored, 10%, 30% (20 / 0.3 = 66.7 -> 67), none.
    expect(summary.stages.map((stage) => [stage.requests, stage.requestsToJudge])).toEqual([
      [null, 40],
      [null, 200],
      [null, 67],
      [null, null],
    ]);
    // 200 prompt tokens at $2 and 128 completion tokens at $8 per Mtok: $1.424 per 1,000 requests.
    expect(summary.requestCostUsd.blue! * 1000).toBeCloseTo(1.424, 6);

    const text = renderSummary(summary, 'a', 'b');
    expect(text).toContain('this plan has no traffic block, so how many (and their cost) is not estimated');
    expect(text).toMatch(/ {6}2 {4}10% {8}20s {2}200 requests \(10\/s over 20s\)\n/);
    expect(text).toMatch(/ {6}3 {4}30% {8}30s {2}67 requests \(2\.2\/s over 30s\)\n/);
    expect(text).toContain('total 1m10s if every stage passes\n');
    expect(text).toContain('estimated cost per 1,000 requests: blue $1.42, green $0.71');
    expect(text).not.toMatch(/\/s as traffic\.rate|1\/s|blue and .* green requests/);
    const schedule = renderSchedule(summary, live);
    expect(schedule).toContain("traffic: the application's, through the proxies; this plan has no traffic block");
    expect(schedule).toContain('green reaches min_requests (20) after');
    expect(schedule).toContain('200 requests (10/s over 20s)');
    expect(schedule).not.toContain('requests/s');
    // No warning about a rate nobody set.
    expect(planWarnings(live).filter((warning) => warning.keyPath.endsWith('.duration'))).toEqual([]);
  });

  it('with a traffic block: counts at the rate it declares, said to be the application’s', () => {
    const live = plan('traffic: { rate: 2 }');
    const summary = summarisePlan(live);
    expect(summary.traffic).toEqual({ basis: 'application', rate: 2 });
    expect(summary.stages[1]?.requests).toEqual({ blue: 36, green: 4 });
    const text = renderSummary(summary, 'a', 'b');
    expect(text).toContain("requests: the application's, through the proxies, estimated at 2/s as traffic.rate says (the rollout sends none itself)");
    expect(renderSchedule(summary, live)).toContain("traffic: the application's, through the proxies, estimated at 2/s");
    // 10s at 2/s mirrored at 0.5 gives green about 10 (of 20); 20s at 10% about 4.
    const warnings = planWarnings(live).filter((warning) => warning.keyPath.endsWith('.duration'));
    // Green short in stages 1-3; blue (the built-in guard's reference) close to min_requests in stages 1, 2 and 4:
    // about 20, 36 and 20 requests arriving at random (give or take 4-6).
    expect(warnings.map((warning) => warning.keyPath)).toEqual([
      'stages[0].duration',
      'stages[0].duration',
      'stages[1].duration',
      'stages[1].duration',
      'stages[2].duration',
      'stages[3].duration',
    ]);
    expect(warnings[1]?.message).toMatch(/^about 20 blue request\(s\) at the application's 2\/s \(traffic.rate\), give or take 4 from run to run: close to/);
    expect(warnings[2]?.message).toBe(
      "about 4 green request(s) at the application's 2/s (traffic.rate), fewer than analysis.min_requests (20): this stage's rules cannot be judged; make it longer (or set traffic.rate to what the application really sends)",
    );
  });

  it('the table and the short-stage warning count a stage alike (one rounding)', () => {
    const live = planFromYaml(`
name: live
upstream: { base_url: "http://127.0.0.1:9/v1" }
blue: { model: a }
green: { model: b }
traffic: { rate: 1.5 }
stages:
  - { duration: 40s, green_weight: 0.1, mirror: 0.2 }
  - { duration: 13s, green_weight: 1 }
analysis: { min_requests: 20 }
proxy:
  admin: { listen: 127.0.0.1:0, token_env: ADMIN_TOKEN }
`);
    const summary = summarisePlan(live);
    // 60 requests: 54 blue (10.8 of them mirrored), 6 green; then 19.5 requests, all green.
    expect(summary.stages.map((stage) => [stage.requests, stage.mirrored])).toEqual([
      [{ blue: 54, green: 6 }, 11],
      [{ blue: 0, green: 20 }, 0],
    ]);
    expect(renderSummary(summary, 'a', 'b')).toContain('54/6 +11 mirrored');
    // The warning said "about 16" (60 x 0.28 = 16.8, rounded down) beside the table's 6 + 11, and warned about
    // the second stage's "19" while the table showed 20.
    const warnings = planWarnings(live).filter((warning) => warning.keyPath.endsWith('.duration'));
    expect(warnings.map((warning) => warning.keyPath)).toEqual(['stages[0].duration', 'stages[1].duration']);
    expect(warnings[0]?.message).toMatch(/^about 17 green request\(s\) at the application's 1\.5\/s/);
    // The second stage's 20 (19.5 expected, arriving at random) is the floor itself: about half the runs get fewer.
    expect(warnings[1]?.message).toMatch(
      /^about 20 green request\(s\) at the application's 1\.5\/s \(traffic.rate\), give or take 4 from run to run: close to analysis.min_requests \(20\), so in about 5\d% of runs fewer arrive/,
    );
  });

  it('with generated traffic: the rollout sends the rate itself, on top of the application’s', () => {
    const live = plan('traffic: { rate: 2 }', '\n  controller: { generated_traffic: true }');
    const summary = summarisePlan(live);
    expect(summary.traffic).toEqual({ basis: 'generated', rate: 2 });
    expect(renderSchedule(summary, live)).toContain(
      "traffic: 2 requests/s, 0% streamed, at most 200 in flight, generated on top of the application's through the proxies",
    );
  });

  it('warns when the admin token the rollout needs is not set (the rollout would stop at start, exit 2)', () => {
    expect(missingAdminTokenWarnings(plan(''), {})).toEqual([
      'ADMIN_TOKEN (proxy.admin.token_env) is not set: a rollout of this plan could not drive its proxies and would stop at start (exit 2)',
    ]);
    expect(missingAdminTokenWarnings(plan(''), { ADMIN_TOKEN: 'a-long-enough-admin-token' })).toEqual([]);
    expect(
      missingAdminTokenWarnings(
        planFromYaml(
          'name: x\nupstream: { base_url: "http://127.0.0.1:9/v1" }\nblue: { model: a }\ngreen: { model: b }\ntraffic: { rate: 1 }\nstages: [ { duration: 1s, green_weight: 0.5 } ]\n',
        ),
        {},
      ),
    ).toEqual([]);
  });
});
