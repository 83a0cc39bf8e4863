// Plans at the edges that validate passes but should warn about (found by hostile11).
import { expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml, planRefusal, simulatedStagesPlan } from '../helpers/plans.js';

it('an analysis.interval not shorter than a stage is warned of: that stage is judged only at its end', () => {
  const stages = [
    { duration: '5m', weight: 0.5 },
    { duration: '30s', weight: 1 },
  ];
  const warned = (interval: string) =>
    planWarnings(planFromYaml(simulatedStagesPlan('slow-judge', stages, { analysis: `{ interval: ${interval}, thresholds: { error_rate: 0.05 } }` }))).filter(
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

// Found by hostile12. Each of these passed validate; 0 (or next to it) is what an operator writes meaning "none".
const livePlan = (controller: string, limits = '') => `${simulatedStagesPlan('tiny-periods', [{ duration: '15s', weight: 0.5 }])}proxy:
  admin: { token_env: BLUEGREEN_ADMIN_TOKEN }
  controller: { ${controller} }
${limits ? `  limits: { ${limits} }\n` : ''}`;

it('a lease under 500ms is refused: a proxy serves blue whenever it runs out between renewals, and the rollout promoted unjudged', () => {
  // Reproduced with lease 1ms on the live demo: 848 'had gone back to blue by its lease' warnings in a minute,
  // green answered 3 requests a stage, and 'promoted: all 4 stages passed, though nothing was judged' (exit 0).
  // lease 0s passed validate too, and every rollout of it rolled back at stage 1 (the proxy refuses a ttlMs of 0).
  for (const lease of ['0s', '1ms', '499ms']) {
    expect(() => planFromYaml(livePlan(`lease: ${lease}`))).toThrow(
      new RegExp(
        `proxy\\.controller\\.lease: must be at least 500ms: a proxy serves blue whenever its lease runs out before the next renewal.*found "${lease}"`,
      ),
    );
  }
  expect(planFromYaml(livePlan('lease: 500ms')).proxy?.controller.lease).toBe(500);
});

it('a poll_interval under 50ms is refused: 0 read every proxy back to back', () => {
  expect(() => planFromYaml(livePlan('poll_interval: 0s'))).toThrow(/proxy\.controller\.poll_interval: must be at least 50ms, found "0s"/);
  expect(planFromYaml(livePlan('poll_interval: 50ms')).proxy?.controller.poll_interval).toBe(50);
});

it('a proxy body_timeout or header_timeout of 0 is refused rather than read as "no limit"', () => {
  // Reproduced: body_timeout 0s answered 408 'did not arrive within 0 ms' to a body sent in two writes 100 ms apart.
  expect(() => planFromYaml(livePlan('lease: 5s', 'body_timeout: 0s'))).toThrow(/proxy\.limits\.body_timeout: must be at least 100ms \(0 is not "no limit"/);
  expect(() => planFromYaml(livePlan('lease: 5s', 'header_timeout: 0s'))).toThrow(
    /proxy\.limits\.header_timeout: must be at least 100ms \(0 is not "no limit"/,
  );
  const plan = planFromYaml(livePlan('lease: 5s', 'body_timeout: 100ms, header_timeout: 100ms'));
  expect([plan.proxy?.limits.body_timeout, plan.proxy?.limits.header_timeout]).toEqual([100, 100]);
});

it('YAML merge keys (<<: *anchor) are read, and an error in a merged value points at where it is written', () => {
  // Before: 'stages[1].<<: unknown key' and 'stages[1].duration: is required' for a plan CI authors write every day.
  const plan = (first: string) => `${simulatedStagesPlan('merged', [])}  - &stage { ${first}, green_weight: 0.5 }
  - { <<: *stage, green_weight: 1 }
  - <<: [*stage]
    duration: 3s
`;
  const merged = planFromYaml(plan('duration: 2s'));
  expect(merged.stages.map((stage) => [stage.duration, stage.green_weight])).toEqual([
    [2000, 0.5],
    [2000, 1],
    [3000, 0.5],
  ]);
  const message = planRefusal(plan('duration: 2x'));
  // Both stages that hold the bad value name it, at the anchor's line and column; the third overrides it.
  expect(message).toMatch(/plan\.yaml:11:24 stages\[0\]\.duration: expected a duration with a unit, like 500ms, 30s, 5m or 1h, found "2x"/);
  expect(message).toMatch(/plan\.yaml:11:24 stages\[1\]\.duration: expected a duration .*found "2x"/);
  expect(message).not.toMatch(/stages\[2\]|<<|is required/);
});

it('an alias naming no anchor, or inside the value its own anchor names, is refused where it is written', () => {
  // Found by hostile24: `params: { extra: &e { a: *e } }` expanded to a circular object, validate said "internal error
  // (a bug): Converting circular structure to JSON" (exit 1) and `validate --json` said valid; an alias naming no
  // anchor was reported as "YAML aliases expand too much (more than 100 copies)".
  const base = simulatedStagesPlan('aliases', [{ duration: '2s', weight: 0.5 }]);
  const selfHolding = base.replace('green: { model: b }', 'green: { model: b, request: { params: { extra: &e { a: *e } } } }');
  expect(planRefusal(selfHolding)).toMatch(
    /plan\.yaml:6:56 YAML alias \*e is inside the value its anchor \(&e\) names, which would hold itself without end; write the value out/,
  );
  expect(planRefusal(base.replace('green: { model: b }', 'green: *nope'))).toMatch(
    /plan\.yaml:6:8 YAML alias \*nope names no anchor: its anchor \(&nope\) must be set above it/,
  );
  // An alias of an earlier anchor, even one inside a sibling, still reads.
  const shared = base.replace('green: { model: b }', 'green: { model: b, request: { params: { a: &v { x: 1 }, b: *v } } }');
  expect(planFromYaml(shared).arms.green.upstream.request.params).toEqual({ a: { x: 1 }, b: { x: 1 } });
});

it('a value that breaks two checks saying the same is named once', () => {
  // Found by hostile24: a seed of 1e30 is not whole and is too large, and both said "must be a whole number from 0 to
  // 4294967295", so the error was printed twice.
  const message = planRefusal(simulatedStagesPlan('big-seed', [{ duration: '2s', weight: 0.5 }]).replace('seed: 1,', 'seed: 1e30,'));
  expect(message.match(/upstream\.simulate\.seed: must be a whole number from 0 to 4294967295/g)).toHaveLength(1);
});
