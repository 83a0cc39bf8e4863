// Names printed as they are (the plan's, the models', the stages') may not hold control characters: an escape
// sequence in a plan from a pull request would rewrite the operator's terminal or forge lines in a CI log.
import { describe, expect, it } from 'vitest';
import { planFromYaml, simulatedPlan } from '../helpers/plans.js';

describe('names that are printed', () => {
  it('refuses an escape in the plan name, a model or a stage name, naming the key', () => {
    expect(() => planFromYaml(simulatedPlan('evil\u001b]0;owned\u0007', '1m', 0.5))).toThrow(/name: must not hold control characters/);
    const plan = simulatedPlan('ok', '1m', 0.5);
    expect(() => planFromYaml(plan.replace(/model: (\S+?)([,} ])/, 'model: "x\\u009b2J"$2'))).toThrow(/blue\.model: must not hold control characters/);
    expect(() => planFromYaml(plan.replace('duration: 1m,', 'duration: 1m, name: "a\\nb",'))).toThrow(/stages\[0\]\.name: must not hold control characters/);
  });

  it('accepts any printable text, accents, CJK and emoji included', () => {
    expect(planFromYaml(simulatedPlan('démo 🚀 名前 naïve', '1m', 0.5)).name).toBe('démo 🚀 名前 naïve');
  });
});
