// Plans at the edges that validate passes but should warn about (found by hostile11).
import { expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml, simulatedStagesPlan } from '../helpers/plans.js';

it('an analysis.interval not shorter than a stage is warned of: that stage is judged only at its end', () => {
  const stages = [
    { duration: '5m', weight: 0.5 },
    { duration: '30s', weight: 1 },
  ];
  const warned = (interval: string) =>
    planWarnings(planFromYaml(`${simulatedStagesPlan('slow-judge', stages)}analysis: { interval: ${interval}, thresholds: { error_rate: 0.05 } }\n`)).filter(
      (warning) => warning.keyPath === 'analysis.interval',
    );
  // Reproduced: interval 10m, 30 s stages, green failing 94%: it rolled back only at the stage's end.
  expect(warned('30s').map((warning) => warning.message)).toEqual([
    '30s is not shorter than stages[1] (30s): such a stage is judged only at its end, so a failing green takes its share for the whole stage; judge more often (it adds no false rollbacks)',
  ]);
  expect(warned('29s')).toEqual([]);
  // A stage of 10 s or less ends within seconds anyway (the default interval is 2s; tests and demos use such stages).
  const short = planWarnings(planFromYaml(simulatedStagesPlan('short', [{ duration: '2s', weight: 0.5 }])));
  expect(short.filter((warning) => warning.keyPath === 'analysis.interval')).toEqual([]);
});

it('a model name with spaces at its ends is refused: it is sent as written, and no upstream knows " gpt-4o"', () => {
  const base = simulatedStagesPlan('spaced', [{ duration: '2s', weight: 0.5 }]);
  expect(() => planFromYaml(base.replace('blue: { model: a }', 'blue: { model: " a" }'))).toThrow(/blue\.model: must not start or end with spaces, found " a"/);
  expect(() => planFromYaml(base.replace('green: { model: b }', 'green: { model: "  " }'))).toThrow(/green\.model: must not start or end with spaces/);
  expect(planFromYaml(base.replace('blue: { model: a }', 'blue: { model: "a b" }')).arms.blue.model).toBe('a b');
});

it("a second YAML document is named as such, not with the YAML library's API advice", () => {
  const base = simulatedStagesPlan('two-docs', [{ duration: '2s', weight: 0.5 }]);
  expect(() => planFromYaml(`${base}---\nname: other\n`)).toThrow(/YAML syntax error: a plan is one YAML document, and this '---' starts another/);
});
