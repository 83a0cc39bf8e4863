// Below 100% green the comparisons with blue and the built-in guard judge against the stage's own blue, so a
// stage that sends blue too little to reach min_requests leaves them unjudged: validate says so.
import { describe, expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml } from '../helpers/plans.js';

const plan = (analysis: string) =>
  planFromYaml(`name: thin-blue
upstream: { api: openai, simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 20, synthetic: { prompts: [hello] } }
stages:
  - { duration: 30s, green_weight: 0.5 }
  - { duration: 10s, green_weight: 0.95 }
  - { duration: 30s, green_weight: 1 }
analysis:
  min_requests: 20
  ${analysis}
`);

const durationWarnings = (analysis: string) => planWarnings(plan(analysis)).filter((warning) => warning.keyPath.endsWith('.duration'));

describe('validate on a stage with little blue traffic', () => {
  it('warns for the built-in guard as for compare_to_blue: the stage at 95% green sends blue about 10 requests', () => {
    for (const analysis of ['thresholds: { latency_p95: 3s }', 'compare_to_blue: { max_error_rate_increase: 0.02 }']) {
      expect(durationWarnings(analysis)).toEqual([
        {
          keyPath: 'stages[1].duration',
          message:
            "about 10 blue request(s) at 20/s, fewer than analysis.min_requests (20): this stage's comparisons with blue cannot be judged; make it longer or the rate higher",
        },
      ]);
    }
  });

  it('says nothing when no rule judges blue', () => {
    expect(durationWarnings('thresholds: { error_rate: 0.05 }')).toEqual([]);
  });
});
