// A p95 ratio written as a percent (150) or as "how much slower" (0.5) is accepted by the schema but means something
// else: validate says so (newuser32: "150%" was told "write the number alone (150)", and 150 passed silently).
import { expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml } from '../helpers/plans.js';

const warnings = (ratio: number) =>
  planWarnings(
    planFromYaml(`name: ratio
upstream: { simulate: { default: {} } }
blue: { model: a }
green: { model: b }
traffic: { rate: 100 }
stages: [{ duration: 60s, green_weight: 0.5 }]
analysis: { compare_to_blue: { max_latency_p95_ratio: ${ratio} } }
`),
  ).filter((warning) => warning.keyPath.endsWith('ratio'));

it('warns of a ratio of 100 or more, a percent written as a number', () => {
  expect(warnings(150)).toEqual([
    {
      keyPath: 'analysis.compare_to_blue.max_latency_p95_ratio',
      message: "is 150: green rolls back only with a p95 over 150 times blue's; for 150% write 1.5",
    },
  ]);
});

it('warns of a ratio under 1, which rolls back a green as fast as blue', () => {
  expect(warnings(0.5)).toEqual([
    {
      keyPath: 'analysis.compare_to_blue.max_latency_p95_ratio',
      message:
        'is 0.5, under 1: green rolls back once its p95 is shown over 0.5 times blue\'s, so a green as fast as blue is rolled back; for "at most 50% slower" write 1.5',
    },
  ]);
});

it('says nothing of a ratio from 1 to under 100', () => {
  expect([...warnings(1), ...warnings(1.5), ...warnings(3), ...warnings(99)]).toEqual([]);
});
