// A warning many stages share is given once, naming the stages (loose19: a 1,000-stage plan printed ~470
// near-identical min_requests lines, burying every other warning); up to three are still given one by one.
import { describe, expect, it } from 'vitest';
import { formatWarning, planWarnings } from '../../src/plan/warnings.js';
import { indexRanges } from '../../src/plan/repeated-warnings.js';
import { planFromYaml } from '../helpers/plans.js';

/** Stages of 5s at 10/s and 10% green (about 5 green requests each, min_requests 20), then `judged` long ones. */
const plan = (short: number, judged = 1) =>
  planFromYaml(`
name: many-stages
upstream:
  simulate: { models: { a: {}, b: {} } }
blue: { model: a }
green: { model: b }
traffic: { rate: 10 }
analysis: { min_requests: 20, thresholds: { error_rate: 0.05 } }
stages:
${[...Array.from({ length: short }, () => '  - { duration: 5s, green_weight: 0.1 }'), ...Array.from({ length: judged }, () => '  - { duration: 10m, green_weight: 0.5 }')].join('\n')}
`);

describe('warnings repeated over stages', () => {
  it('a 1,000-stage plan: one line for the stages too short, naming them', () => {
    const lines = planWarnings(plan(999)).map(formatWarning);
    const short = lines.filter((line) => line.includes('min_requests'));
    expect(short).toEqual([
      'stages[0-998].duration: 999 stages: each gets fewer green requests at 10/s than analysis.min_requests (20): their rules cannot be judged; make them longer or the rate higher',
    ]);
  });

  it('up to three are given one by one, with their figures', () => {
    const short = planWarnings(plan(3)).filter((warning) => warning.message.includes('min_requests'));
    expect(short.map((warning) => warning.keyPath)).toEqual(['stages[0].duration', 'stages[1].duration', 'stages[2].duration']);
    expect(short[0]?.message).toMatch(/^about 5 green request\(s\) at 10\/s, fewer than analysis\.min_requests \(20\)/);
  });

  it('indexes read as runs', () => {
    expect(indexRanges([7, 2, 3, 4, 9, 10])).toBe('2-4, 7, 9-10');
    expect(indexRanges([5])).toBe('5');
  });
});
