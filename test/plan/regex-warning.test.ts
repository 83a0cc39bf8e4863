// hostile36: a quality.regex V8 can run only by backtracking (a backreference, lookaround, a count over 16) and shaped
// to backtrack exponentially (a backreference, lookaround, nested repetition) may take minutes on one answer, during
// which the proxy checking it serves nothing: validate says so. Other patterns fall back to the linear-time engine
// (test/hostile/quality-regex-backtracking.test.ts).
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

it('warns of a backreference, a lookaround or nested repetition the linear-time engine cannot run', () => {
  const patterns = [
    '^(\\w+)\\s\\1$',
    '(?=.*order)(?=.*ship)',
    '(?<!not )shipped',
    '^(?<word>\\w+) \\k<word>$',
    '^(\\w+\\s?)+\\d{17}$',
    '^(?:[a-z]{1,20} ?)+$',
    '^(\\d{3},?){2,20}$',
    '^((ab)+c){2,}[^.]{17}$',
  ];
  for (const regex of patterns) {
    const [warning, ...more] = warned(regex);
    expect(more, regex).toEqual([]);
    expect(warning?.message, regex).toContain('a match may then backtrack for minutes on one long answer');
  }
});

// review36: any count over 16 was warned of, though a count on one atom or class backtracks only in proportion to it.
it('says nothing of a large count on one atom or class, nor of groups that repeat once at most', () => {
  const patterns = ['\\d{17}', '^.{1,500}$', '^[^.]{10,500}$', '^(ticket-\\d+)?[a-z]{20}$', '^(?:ab){20}$', '(a+){1}b{30}', '\\p{L}{40}', '[\\1(?=]{17}'];
  for (const regex of patterns) expect(warned(regex), regex).toEqual([]);
});

it('says nothing of patterns the linear-time engine takes over, exponential ones on a backtracking engine included', () => {
  expect([...warned('^ticket-\\d+$'), ...warned('^(\\w+\\s?)+$'), ...warned('\\bships\\b'), ...warned('^.{1,16}$')]).toEqual([]);
});
