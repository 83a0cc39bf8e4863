// Rules a plan sets that its traffic can never judge, which validate warns about: ttft_p95 on generated traffic
// that never streams, and comparisons with blue (the built-in guard too) on stages with no blue traffic.
import { describe, expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml } from '../helpers/plans.js';

/** A plan on the simulator with the given traffic, stages and analysis blocks. */
const planOf = (traffic: string, stages: string, analysis: string) =>
  planFromYaml(`
name: unjudged
upstream: { simulate: { default: {} } }
blue: { model: a }
green: { model: b }
traffic: ${traffic}
stages:
${stages}
analysis: ${analysis}
`);

const plan = (traffic: string) => planOf(traffic, '  - { duration: 60s, green_weight: 0.5 }', '{ thresholds: { ttft_p95: 2s } }');

const ttftWarnings = (p: ReturnType<typeof plan>) => planWarnings(p).filter((warning) => warning.keyPath === 'analysis.thresholds.ttft_p95');

describe('ttft_p95 without streamed requests', () => {
  it('is a warning when the generated traffic never streams', () => {
    expect(ttftWarnings(plan('{ rate: 10, stream: 0 }'))).toEqual([
      {
        keyPath: 'analysis.thresholds.ttft_p95',
        message: 'is judged over streamed requests only, and traffic.stream is 0: it will never be judged (set traffic.stream above 0)',
      },
    ]);
    // The default share streams nothing either.
    expect(ttftWarnings(plan('{ rate: 10 }'))).toHaveLength(1);
  });

  it('is no warning when some requests stream', () => {
    expect(ttftWarnings(plan('{ rate: 10, stream: 0.2 }'))).toEqual([]);
  });
});

describe('comparisons with blue on stages with no blue traffic', () => {
  const stagesPlan = (stages: string, analysis = '{}') => planOf('{ rate: 10 }', stages, analysis);
  const blueless = (p: ReturnType<typeof stagesPlan>) => planWarnings(p).filter((warning) => warning.keyPath === 'stages[0].green_weight');

  it('warns when the built-in guard can never judge in a stage with a rule on latency: every stage is 100% green', () => {
    // A latency rule has no blue to judge against either, but an error_rate keeps green's errors judged.
    expect(
      blueless(stagesPlan('  - { duration: 60s, green_weight: 1 }', '{ thresholds: { error_rate: 0.05 }, compare_to_blue: { max_latency_p95_ratio: 2 } }')),
    ).toEqual([
      {
        keyPath: 'stages[0].green_weight',
        message: 'is 1 and no stage sends blue any request: compare_to_blue has no blue figures to judge green against there; start below 1',
      },
    ]);
  });

  it("refuses a plan whose stages are all 100% green when green's errors are judged only against blue", () => {
    const refusal =
      /stages.*send every request to green, and the plan judges green's error rate only against blue's \(no analysis\.thresholds\.error_rate\).*Set analysis\.thresholds\.error_rate/s;
    expect(() => stagesPlan('  - { duration: 60s, green_weight: 1 }')).toThrow(refusal);
    expect(() => stagesPlan('  - { duration: 60s, green_weight: 1 }', '{ thresholds: { latency_p95: 2s } }')).toThrow(refusal);
    expect(() =>
      stagesPlan('  - { duration: 60s, green_weight: 1 }\n  - { duration: 60s, green_weight: 1 }', '{ compare_to_blue: { max_error_rate_increase: 0.02 } }'),
    ).toThrow(refusal);
    // An absolute error rate is judged without blue.
    expect(() => stagesPlan('  - { duration: 60s, green_weight: 1 }', '{ thresholds: { error_rate: 0.05 } }')).not.toThrow();
  });

  it('names the first stage with blue traffic for compare_to_blue, and says nothing when the first stage has blue', () => {
    const late = stagesPlan(
      '  - { duration: 60s, green_weight: 1 }\n  - { duration: 60s, green_weight: 0.5 }',
      '{ compare_to_blue: { max_error_rate_increase: 0.02 } }',
    );
    expect(blueless(late)[0]?.message).toMatch(/^is 1 and stages before stages\[1\] send blue no request: compare_to_blue has no blue figures/);
    expect(blueless(stagesPlan('  - { duration: 60s, green_weight: 0.5 }\n  - { duration: 60s, green_weight: 1 }'))).toEqual([]);
    expect(blueless(stagesPlan('  - { duration: 60s, green_weight: 1 }', '{ thresholds: { error_rate: 0.05 } }'))).toEqual([]);
  });
});

describe('stages that never send green a request', () => {
  const stagesPlan = (stages: string, extra = '', analysis = '{ thresholds: { error_rate: 0.05 } }') =>
    planFromYaml(`
name: unseen-green
upstream: { simulate: { default: {} } }
blue: { model: a }
green: { model: b }
traffic: { rate: 10 }
stages:
${stages}
analysis: ${analysis}
${extra}`);
  const unseen = (p: ReturnType<typeof stagesPlan>) => planWarnings(p).filter((warning) => warning.keyPath === 'stages');

  it('warn that green would never be judged, and how the rollout then ends', () => {
    const noGreen = '  - { duration: 60s, green_weight: 0 }\n  - { duration: 60s, green_weight: 0 }';
    expect(unseen(stagesPlan(noGreen))).toEqual([
      {
        keyPath: 'stages',
        message:
          'no stage sends green a request (every green_weight is 0, and no live mirror): nothing about green is judged, yet the stages pass and the rollout ends by rolling back with nothing judged (exit 10); give a stage a green_weight above 0',
      },
    ]);
    expect(unseen(stagesPlan(noGreen, '', '{ thresholds: { error_rate: 0.05 }, on_unjudged: promote }'))[0]?.message).toContain(
      'the rollout ends by promoting green to 100% (analysis.on_unjudged: promote);',
    );
  });

  it('do not warn when one stage sends green some traffic, or a live plan mirrors to it', () => {
    expect(unseen(stagesPlan('  - { duration: 60s, green_weight: 0 }\n  - { duration: 60s, green_weight: 0.1 }'))).toEqual([]);
    expect(unseen(stagesPlan('  - { duration: 60s, green_weight: 0, mirror: 0.5 }', 'proxy: { admin: { token_env: ADMIN_TOKEN } }'))).toEqual([]);
  });
});

describe('rate rules at 1, which can never be crossed (hostile11)', () => {
  const rulePlan = (analysis: string) => planOf('{ rate: 10 }', '  - { duration: 60s, green_weight: 0.5 }', analysis);
  const atOne = (analysis: string) => planWarnings(rulePlan(analysis)).filter((warning) => warning.message.startsWith('is 1: '));

  it('warns of error_rate: 1, which also turns off the built-in guard', () => {
    expect(atOne('{ thresholds: { error_rate: 1 } }')).toEqual([
      {
        keyPath: 'analysis.thresholds.error_rate',
        message:
          "is 1: green's error rate cannot be above 100%, so this rule can never roll back, and being set it turns off the built-in guard (green failing more than blue): a green failing every request would run every stage and roll back only at the end, with nothing judged; set a real limit (such as 0.05), or leave it out",
      },
    ]);
    expect(atOne('{ thresholds: { error_rate: 1 }, on_unjudged: promote }')[0]?.message).toContain(
      'a green failing every request would run every stage and be promoted (analysis.on_unjudged: promote);',
    );
  });

  it('does not say a failing green would be promoted when consecutive_errors or another error rule still judges it', () => {
    expect(atOne('{ thresholds: { error_rate: 1, consecutive_errors: 5 } }')[0]?.message).toContain(
      'turns off the built-in guard (green failing more than blue); set a real limit',
    );
    expect(atOne('{ thresholds: { error_rate: 1 }, compare_to_blue: { max_error_rate_increase: 0.02 } }')[0]?.message).toBe(
      "is 1: green's error rate cannot be above 100%, so this rule can never roll back; set a real limit (such as 0.05), or leave it out",
    );
  });

  it('warns of the quality rate and the comparisons with blue at 1, and of nothing below 1', () => {
    const keys = atOne(
      '{ thresholds: { quality_fail_rate: 1 }, quality: { min_content_length: 5 }, compare_to_blue: { max_error_rate_increase: 1, max_quality_fail_rate_increase: 1 } }',
    ).map((warning) => warning.keyPath);
    expect(keys).toEqual([
      'analysis.thresholds.quality_fail_rate',
      'analysis.compare_to_blue.max_error_rate_increase',
      'analysis.compare_to_blue.max_quality_fail_rate_increase',
    ]);
    expect(atOne('{ thresholds: { error_rate: 0.99, quality_fail_rate: 0.5 }, quality: { min_content_length: 5 } }')).toEqual([]);
  });
});

describe('a plan none of whose stages can judge green', () => {
  const rollbackWarning = (stages: string, analysis = '{ thresholds: { error_rate: 0.05 } }') =>
    planWarnings(planOf('{ rate: 1 }', stages, analysis)).filter((warning) => warning.keyPath === 'analysis.on_unjudged');

  it('warns that the rollout will roll back at its end with nothing judged', () => {
    expect(rollbackWarning('  - { duration: 5s, green_weight: 0.5 }\n  - { duration: 10s, green_weight: 1 }')).toEqual([
      {
        keyPath: 'analysis.on_unjudged',
        message:
          'no stage sends green analysis.min_requests (20) requests at 1/s: with nothing judged in any stage the rollout rolls back at its end (exit 10, nothing_judged) however healthy green is; make the stages longer or the rate higher, or set analysis.on_unjudged: promote to promote such a rollout anyway',
      },
    ]);
  });

  it('does not warn when one stage can, or the plan promotes such a rollout', () => {
    expect(rollbackWarning('  - { duration: 5s, green_weight: 0.5 }\n  - { duration: 60s, green_weight: 1 }')).toEqual([]);
    expect(rollbackWarning('  - { duration: 5s, green_weight: 0.5 }', '{ thresholds: { error_rate: 0.05 }, on_unjudged: promote }')).toEqual([]);
  });
});

describe('a plan whose stages are close to min_requests (judging-odds.ts)', () => {
  const rollbackWarning = (traffic: string, stages: string, analysis: string) =>
    planWarnings(planOf(traffic, stages, analysis)).filter((warning) => warning.keyPath === 'analysis.on_unjudged');

  it('says how often the rollout would roll back with nothing judged when every stage is close to the floor', () => {
    // 20/s x 12 s x 10% = 24 green requests in each of two stages, give or take 5, against min_requests 20.
    const stages = '  - { duration: 12s, green_weight: 0.1 }\n  - { duration: 12s, green_weight: 0.1 }';
    const [warning] = rollbackWarning('{ rate: 20 }', stages, '{ min_requests: 20, thresholds: { error_rate: 0.05 } }');
    expect(warning?.message).toMatch(
      /^every stage's requests at 20\/s are close to analysis.min_requests \(20\): in about 3% of runs no stage reaches it, and the rollout rolls back at its end with nothing judged \(exit 10, nothing_judged\) however healthy green is, so its exit code changes from run to run;/,
    );
    // Each stage says it may not be judged, with its own odds (about 17%).
    const stageWarnings = planWarnings(planOf('{ rate: 20 }', stages, '{ min_requests: 20, thresholds: { error_rate: 0.05 } }')).filter((w) =>
      w.keyPath.endsWith('.duration'),
    );
    expect(stageWarnings.map((w) => w.message)).toEqual([
      expect.stringContaining(
        'about 24 green request(s) at 20/s, give or take 5 from run to run: close to analysis.min_requests (20), so in about 17% of runs',
      ),
      expect.stringContaining(
        'about 24 green request(s) at 20/s, give or take 5 from run to run: close to analysis.min_requests (20), so in about 17% of runs',
      ),
    ]);
  });

  it('says nothing once one stage is sure to judge (a count 3 standard deviations above the floor), or the plan promotes anyway', () => {
    const stages = '  - { duration: 12s, green_weight: 0.1 }\n  - { duration: 12s, green_weight: 1 }';
    expect(rollbackWarning('{ rate: 20 }', stages, '{ min_requests: 20, thresholds: { error_rate: 0.05 } }')).toEqual([]);
    const close = '  - { duration: 12s, green_weight: 0.1 }';
    expect(rollbackWarning('{ rate: 20 }', close, '{ min_requests: 20, thresholds: { error_rate: 0.05 }, on_unjudged: promote }')).toEqual([]);
    // 48 green requests against 20: about 6 standard deviations above, no warning of any kind.
    expect(planWarnings(planOf('{ rate: 20 }', '  - { duration: 24s, green_weight: 0.1 }', '{ min_requests: 20, thresholds: { error_rate: 0.05 } }'))).toEqual(
      [],
    );
  });

  it('counts users sticky on one arm: 5 synthetic users put green at 0 or all of the traffic', () => {
    const stages = '  - { duration: 30s, green_weight: 0.5 }';
    const analysis = '{ min_requests: 20, thresholds: { error_rate: 0.05 } }';
    // 300 requests at 50%: 150 green, give or take 9 unkeyed; with 5 users, give or take about 67.
    expect(rollbackWarning('{ rate: 10 }', stages, analysis)).toEqual([]);
    expect(rollbackWarning('{ rate: 10, synthetic: { users: 5 } }', stages, analysis)[0]?.message).toMatch(/^every stage's requests at 10\/s are close to/);
  });

  it('says a comparison-only plan whose blue reference is short in every stage rolls back however healthy green is', () => {
    // Green gets plenty (95%: about 38 a stage), blue 2 a stage: its rollout so far never reaches 20.
    const stages = '  - { duration: 2s, green_weight: 0.95 }\n  - { duration: 2s, green_weight: 0.95 }';
    const [warning] = rollbackWarning('{ rate: 20 }', stages, '{ min_requests: 20, compare_to_blue: { max_error_rate_increase: 0.02 } }');
    expect(warning?.message).toMatch(
      /^no stage can judge green at 20\/s: every rate rule compares green with blue, and each stage sends green or blue's reference fewer than analysis.min_requests \(20\) requests: the rollout rolls back at its end \(exit 10, nothing_judged\) however healthy green is;/,
    );
    // An absolute rule judges green without blue: no rollback to warn of.
    expect(
      rollbackWarning('{ rate: 20 }', stages, '{ min_requests: 20, thresholds: { error_rate: 0.05 }, compare_to_blue: { max_error_rate_increase: 0.02 } }'),
    ).toEqual([]);
  });
});
