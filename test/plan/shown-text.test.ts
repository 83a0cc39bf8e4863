// Names printed as they are (the plan's, the models', the stages') may not hold control characters: an escape
// sequence in a plan from a pull request would rewrite the operator's terminal or forge lines in a CI log.
import { describe, expect, it } from 'vitest';
import { planFromYaml, planRefusal, simulatedPlan } from '../helpers/plans.js';

describe('names that are printed', () => {
  it('refuses an escape in the plan name, a model or a stage name, naming the key', () => {
    expect(() => planFromYaml(simulatedPlan('evil\u001b]0;owned\u0007', '1m', 0.5))).toThrow(/name: must not hold control characters/);
    const plan = simulatedPlan('ok', '1m', 0.5);
    expect(() => planFromYaml(plan.replace(/model: (\S+?)([,} ])/, 'model: "x\\u009b2J"$2'))).toThrow(/blue\.model: must not hold control characters/);
    expect(() => planFromYaml(plan.replace('duration: 1m,', 'duration: 1m, name: "a\\nb",'))).toThrow(/stages\[0\]\.name: must not hold control characters/);
  });

  it('refuses bidirectional overrides and isolates (Trojan Source) and line separators, which make a name display as another', () => {
    // "Reverse" shown, "\u202eesreveR" written: a reviewer reads one plan name, the rollout records another.
    for (const name of ['\u202eesreveR', 'blue\u2066\u2069', 'a\u200fb', 'x\u2028y', 'x\u061cy']) {
      expect(() => planFromYaml(simulatedPlan(name, '1m', 0.5)), name).toThrow(/name: must not hold control characters/);
    }
    const plan = simulatedPlan('ok', '1m', 0.5);
    expect(() => planFromYaml(plan.replace('duration: 1m,', 'duration: 1m, name: "canary\\u202e",'))).toThrow(
      /stages\[0\]\.name: must not hold control characters \(tabs, newlines, escapes, bidirectional overrides\)/,
    );
  });

  it("refuses them in the proxy's aliases and passthrough models too, which the proxy prints as it starts", () => {
    const live = (proxy: string) => `${simulatedPlan('ok', '1m', 0.5)}proxy: ${proxy}\n`;
    expect(() => planFromYaml(live('{ alias: "gpt\\u202e" }'))).toThrow(/proxy\.alias: must not hold control characters/);
    expect(() => planFromYaml(live('{ alias: ["a", "gpt\\u2066"] }'))).toThrow(/proxy\.alias\[1\]: must not hold control characters/);
    expect(() => planFromYaml(live('{ passthrough: ["x\\u001b[2J"] }'))).toThrow(/proxy\.passthrough\[0\]: must not hold control characters/);
  });

  it('accepts any printable text, accents, CJK and emoji included', () => {
    expect(planFromYaml(simulatedPlan('démo 🚀 名前 naïve', '1m', 0.5)).name).toBe('démo 🚀 名前 naïve');
    // Right-to-left text itself is fine, and a joiner inside an emoji sequence.
    expect(planFromYaml(simulatedPlan('עברית عربي 👩‍💻', '1m', 0.5)).name).toBe('עברית عربي 👩‍💻');
  });
});

describe('plan problems that quote the plan', () => {
  it("show a control character in a file's path or a key escaped, never raw", () => {
    const plan = simulatedPlan('ok', '1m', 0.5);
    const path = planRefusal(plan.replace(/traffic: \{/, 'traffic: { synthetic: { prompts: "p/\\u001b]0;owned\\u0007.txt" },'));
    expect(path).toContain('file not found: ');
    expect(path).toContain('p/\\u001b]0;owned\\u0007.txt');
    const key = planRefusal(`${plan}"evil\\u001b[2J": 1\n`);
    expect(key).toContain('evil\\u001b[2J');
    for (const text of [path, key]) expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('show a bidirectional override in a key escaped, so the message reads as it is', () => {
    const message = planRefusal(`${simulatedPlan('ok', '1m', 0.5)}"evil\\u202ekey": 1\n`);
    expect(message).toContain('evil\\u202ekey');
    expect(message).not.toContain('\u202e');
  });

  it("never quote a URL's credentials or query, as a hook's messages do not (hostile19)", () => {
    const hook = (url: string) => `${simulatedPlan('ok', '1m', 0.5)}hooks:\n  on_rollback: { webhook: "${url}" }\n`;
    const message = planRefusal(hook('ftp://hookuser:W3bh00kPass@hooks.example/x?sig=S1gnature'));
    // Cut to origin and path, as a hook's messages show a URL (src/hooks/text.ts: one rule for both).
    expect(message).toContain('hooks.on_rollback.webhook: expected an http:// or https:// URL, found "ftp://hooks.example/x"');
    for (const secret of ['hookuser', 'W3bh00kPass', 'S1gnature']) expect(message).not.toContain(secret);
  });

  it('never quote them either in the advice for a key without a space after its colon (review20)', () => {
    const plan = simulatedPlan('ok', '1m', 0.5);
    const url = planRefusal(plan.replace('traffic: { rate: 20 }', 'traffic:\n  rate:https://ci:Pw5ecret@h.io/x?k=Qk'));
    expect(url).toContain('a key needs a space after its colon (rate: https://h.io/x)');
    for (const secret of ['ci:', 'Pw5ecret', 'Qk']) expect(url).not.toContain(secret);
    const escape = planRefusal(plan.replace('traffic: { rate: 20 }', 'traffic: "rate:\\e]0;owned\\a"'));
    expect(escape).toContain('a key needs a space after its colon (rate: \\u001b]0;owned\\u0007)');
    expect(escape).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('show a line break a path quotes escaped: one problem is one line, so it cannot forge a CI log line', () => {
    const plan = simulatedPlan('ok', '1m', 0.5);
    const message = planRefusal(plan.replace(/traffic: \{/, 'traffic: { synthetic: { prompts: "p/x\\n::error::forged\\r.txt" },'));
    expect(message).toContain('file not found: ');
    expect(message).toContain('p/x\\u000a::error::forged\\u000d.txt');
    expect(message.split('\n').filter((line) => line.startsWith('::'))).toEqual([]);
  });
});
