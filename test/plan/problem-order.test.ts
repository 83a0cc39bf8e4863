// Plan problems come in the order of the file's lines (newuser32: they came in the schema's order, so a plan with
// analysis above stages was told about stages first, and the first of 25 was not the first in the file).
import { expect, it } from 'vitest';
import { planRefusal } from '../helpers/plans.js';

it("reports a plan's problems by line and column, whatever order the schema checks them in", () => {
  const message = planRefusal(`name: order
analysis:
  min_requests: -1
  thresholds: { error_rate: 2 }
stages:
  - { duration: 10s, green_weight: 7 }
upstream: { simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 0 }
`);
  const places = message.split('\n').map((line) => /:(\d+):(\d+) (\S+):/.exec(line)?.slice(1, 4).join(' '));
  expect(places).toEqual(['3 17 analysis.min_requests', '4 29 analysis.thresholds.error_rate', '6 36 stages[0].green_weight', '10 18 traffic.rate']);
});
