// hostile36: a quality.regex V8 can run only by backtracking (a backreference, lookaround, a count over 16) may take
// minutes on one answer, during which the proxy checking it serves nothing: validate says so. Other patterns fall
// back to the linear-time engine (test/hostile/quality-regex-backtracking.test.ts).
import { expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml } from '../helpers/plans.js';

const warned = (regex: string) =>
  planWarnings(
    planFromYaml(`name: regex
upstream: { simulate: { default: {} } }
blue: { model: a }
green: { model: b }
traffic: { rate: 100 }
stages: [{ duration: 60s, green_weight: 0.5 }]
analysis: { quality: { regex: ${JSON.stringify(regex)} } }
`),
  ).filter((warning) => warning.keyPath === 'analysis.quality.regex');

it('warns of a backreference, a lookaround or a count over 16, which the linear-time engine cannot run', () => {
  for (const regex of ['^(\\w+)\\s\\1$', '(?=.*order)(?=.*ship)', '(?<!not )shipped', '^[^.]{10,500}$']) {
    const [warning, ...more] = warned(regex);
    expect(more).toEqual([]);
    expect(warning?.message).toContain('a match may then backtrack for minutes on one long answer');
  }
});

it('says nothing of patterns the linear-time engine takes over, exponential ones on a backtracking engine included', () => {
  expect([...warned('^ticket-\\d+$'), ...warned('^(\\w+\\s?)+$'), ...warned('\\bships\\b'), ...warned('^.{1,16}$')]).toEqual([]);
});
