// A model name holding a zero-width or other invisible character looks like another model, yet is another model to
// the upstream and to the proxy's routing: refused, naming the character and where it is (loose19: accepted).
import { describe, expect, it } from 'vitest';
import { planFromYaml, planRefusal, simulatedPlan } from '../helpers/plans.js';

const plan = simulatedPlan('ok', '1m', 0.5);
const withBlueModel = (model: string) => plan.replace(/model: (\S+?)([,} ])/, `model: "${model}"$2`);
const live = (proxy: string) => `${plan}proxy: ${proxy}\n`;

describe('model names', () => {
  it('refuse zero-width, format and invisible space characters, naming the character and its place', () => {
    expect(planRefusal(withBlueModel('gpt\\u200b-4o'))).toContain(
      'blue.model: must not hold invisible characters (U+200B at character 4): a model name that looks like another is another model to the upstream',
    );
    for (const [char, code] of [
      ['\\u200d', '200D'],
      ['\\u2060', '2060'],
      ['\\ufeff', 'FEFF'],
      ['\\u00ad', '00AD'],
      ['\\u00a0', '00A0'],
      ['\\u3164', '3164'],
      ['\\ufe0f', 'FE0F'],
      ['\\U000E0041', 'E0041'],
    ] as const) {
      expect(planRefusal(withBlueModel(`gpt-4o${char}x`)), code).toContain(`blue.model: must not hold invisible characters (U+${code} at character 7)`);
    }
  });

  it("refuse them in the proxy's aliases and passthrough models too", () => {
    expect(planRefusal(live('{ alias: "gpt\\u200c4" }'))).toContain('proxy.alias: must not hold invisible characters (U+200C at character 4)');
    expect(planRefusal(live('{ passthrough: ["ok", "emb\\u200bed"] }'))).toContain('proxy.passthrough[1]: must not hold invisible characters (U+200B');
  });

  it('accept printable names: a space inside, accents, CJK, slashes and colons', () => {
    for (const model of ['gpt-4o', 'llama3.1:8b', 'meta/llama 3 70b', 'modèle-名前']) {
      expect(planFromYaml(withBlueModel(model)).arms.blue.model).toBe(model);
    }
  });
});
