// validate's judgement line counts its rule-stage checks in words that agree with the count (newuser30: "over 1
// rule-stage checks" for a one-stage plan judged by the built-in guard alone).
import { expect, it } from 'vitest';
import { describeJudgement } from '../../src/analysis/describe.js';
import { analysisConfig } from '../helpers/plans.js';

it('says "1 rule-stage check" and "2 rule-stage checks"', () => {
  expect(describeJudgement(analysisConfig(), 1)).toContain('(1 rule-stage check, each bound 99% sure)');
  expect(describeJudgement(analysisConfig(), 2)).toContain('(2 rule-stage checks, each bound 99.5% sure)');
});
