// An arm without a price: validate said "estimated cost: blue -, green -" where --dry-run said "no price" (newuser30).
import { expect, it } from 'vitest';
import { renderSummary } from '../../src/cli/commands/validate.js';
import { summarisePlan } from '../../src/plan/summary.js';
import { renderSchedule } from '../../src/report/outcome/index.js';
import { planFromYaml } from '../helpers/plans.js';

it('validate and --dry-run both say "no price" for an arm the plan prices not', () => {
  const plan = planFromYaml(`name: unpriced
upstream: { simulate: { models: { a: {}, b: {} } } }
blue: { model: a, price: { input_per_mtok: 2, output_per_mtok: 8 } }
green: { model: b }
traffic: { rate: 20 }
stages: [{ duration: 10s, green_weight: 0.5 }]
`);
  const summary = summarisePlan(plan);
  expect(renderSummary(summary, 'a', 'b')).toMatch(/estimated cost: blue \$\S+, green no price \(assuming/);
  expect(renderSchedule(summary, plan)).toMatch(/estimated cost: blue \$\S+, green no price \(assuming/);
});
