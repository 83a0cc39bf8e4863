// A misspelt required key is one slip and one message: its "did you mean" (newuser30: `gren_weight` was also
// reported as `stages[0].green_weight: is required`, two errors for one typo, the first pointing at the line start).
import { expect, it } from 'vitest';
import { planRefusal } from '../helpers/plans.js';

const plan = (stage: string, top = 'traffic') => `name: typo
upstream: { simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
${top}: { rate: 20 }
stages:
  - ${stage}
`;

it('a misspelt required key is reported once, as the key it is likely meant to be', () => {
  expect(planRefusal(plan('{ duration: 10s, gren_weight: 0.1 }'))).toMatch(/^\S+:7:22 stages\[0\]\.gren_weight: unknown key; did you mean "green_weight"\?$/);
  expect(planRefusal(plan('{ duration: 10s, green_weight: 0.1 }', 'trafic'))).toMatch(/^\S+:5:1 trafic: unknown key; did you mean "traffic"\?$/);
});

it('a required key that is missing with no look-alike is still said to be required', () => {
  expect(planRefusal(plan('{ duration: 10s, weight: 0.1 }'))).toMatch(
    /stages\[0\]\.green_weight: is required \(expected number\)\n.*stages\[0\]\.weight: unknown key/,
  );
});
