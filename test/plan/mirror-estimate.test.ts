// A live rollout's shadow stage (mirror) sends copies of blue's requests to green: the schedule and the cost
// estimate count them; a mirror in a plan without proxies does nothing, and validate says so.
import { describe, expect, it } from 'vitest';
import { renderSummary } from '../../src/cli/commands/validate.js';
import { summarisePlan } from '../../src/plan/summary.js';
import { planWarnings } from '../../src/plan/warnings.js';
import { renderSchedule } from '../../src/report/outcome/index.js';
import { planFromYaml } from '../helpers/plans.js';

const stages = `
blue: { model: a, price: { input_per_mtok: 1, output_per_mtok: 1 } }
green: { model: b, price: { input_per_mtok: 1, output_per_mtok: 1 } }
traffic: { rate: 10 }
stages:
  - { duration: 10s, green_weight: 0, mirror: 1 }
  - { duration: 10s, green_weight: 0.5, mirror: 0.5 }
  - { duration: 10s, green_weight: 1 }
`;
const live = `
name: live
upstream: { base_url: "http://127.0.0.1:9/v1" }
${stages}
proxy:
  admin: { listen: 127.0.0.1:0, token_env: ADMIN_TOKEN }
`;
const generated = `
name: generated
upstream: { simulate: { default: {} } }
${stages}`;

describe('mirror copies in the estimate', () => {
  it('a live plan counts the copies to green, per stage and in green’s cost', () => {
    const plan = planFromYaml(live);
    const summary = summarisePlan(plan);
    expect(summary.stages.map((stage) => [stage.requests?.blue, stage.requests?.green, stage.mirrored])).toEqual([
      [100, 0, 100],
      [50, 50, 25],
      [0, 100, 0],
    ]);
    expect(summary.mirrored).toBe(125);
    // Same prices on both arms: green's cost is in proportion to its 150 routed and 125 mirrored requests.
    expect(summary.costUsd.green! / summary.costUsd.blue!).toBeCloseTo(275 / 150, 6);
    const text = renderSummary(summary, 'a', 'b');
    expect(text).toContain('100/0 +100 mirrored');
    expect(text).toContain('150 blue and 150 green requests, and 125 mirror copies to green');
    const schedule = renderSchedule(summary, plan);
    expect(schedule).toContain('mirrored to green');
    expect(schedule).toContain('and 125 mirror copies to green');
    expect(planWarnings(plan).filter((warning) => warning.keyPath.endsWith('.mirror'))).toEqual([]);
  });

  it('a plan without proxies counts no copies and warns that its mirror does nothing', () => {
    const plan = planFromYaml(generated);
    const summary = summarisePlan(plan);
    expect(summary.mirrored).toBe(0);
    expect(renderSchedule(summary, plan)).not.toContain('mirror');
    expect(planWarnings(plan).map((warning) => warning.keyPath)).toEqual(['stages[0].mirror', 'stages[1].mirror']);
  });
});
