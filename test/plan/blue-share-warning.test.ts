// The comparisons with blue and the built-in guard judge against the stage's own blue, or blue over the rollout so
// far in a stage planning fewer than 100 blue requests (src/analysis/reference.ts): validate warns only when that
// reference is short of min_requests (it used to warn of the stage's own blue, which such a stage never judges by).
import { describe, expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml } from '../helpers/plans.js';

/** The plan's stages (flow mappings, one a line) under min_requests 20 and `analysis`'s rules, at 20 req/s. */
const plan = (stages: string[], analysis: string) =>
  planFromYaml(`name: thin-blue
upstream: { api: openai, simulate: { models: { a: {}, b: {} } } }
blue: { model: a }
green: { model: b }
traffic: { rate: 20, synthetic: { prompts: [hello] } }
stages:
${stages.map((stage) => `  - ${stage}`).join('\n')}
analysis:
  min_requests: 20
  ${analysis}
`);

const durationWarnings = (stages: string[], analysis: string) =>
  planWarnings(plan(stages, analysis)).filter((warning) => warning.keyPath.endsWith('.duration'));

const THREE_STAGES = ['{ duration: 30s, green_weight: 0.5 }', '{ duration: 10s, green_weight: 0.95 }', '{ duration: 30s, green_weight: 1 }'];

describe('validate on a stage with little blue traffic', () => {
  it('says nothing of a stage planning under 100 blue requests: it judges against blue over the rollout so far', () => {
    // Stage 2 at 95% green sends blue about 10 requests, but its reference is the rollout's blue so far (about 310).
    for (const analysis of ['thresholds: { latency_p95: 3s }', 'compare_to_blue: { max_error_rate_increase: 0.02 }']) {
      expect(durationWarnings(THREE_STAGES, analysis)).toEqual([]);
    }
  });

  it('warns for the built-in guard as for compare_to_blue when blue over the rollout so far is short too', () => {
    const stages = ['{ duration: 10s, green_weight: 0.95 }', '{ duration: 30s, green_weight: 1 }'];
    for (const analysis of ['thresholds: { latency_p95: 3s }', 'compare_to_blue: { max_error_rate_increase: 0.02 }']) {
      expect(durationWarnings(stages, analysis)).toEqual([
        {
          keyPath: 'stages[0].duration',
          message:
            "about 10 blue request(s) in the rollout so far at 20/s, fewer than analysis.min_requests (20): this stage's comparisons with blue cannot be judged; make it longer or the rate higher",
        },
        {
          keyPath: 'stages[1].duration',
          message:
            "about 10 blue request(s) in the rollout so far at 20/s, fewer than analysis.min_requests (20): this stage's comparisons with blue cannot be judged; make it longer or the rate higher",
        },
      ]);
    }
  });

  it('says nothing when no rule judges blue', () => {
    expect(durationWarnings(THREE_STAGES, 'thresholds: { error_rate: 0.05 }')).toEqual([]);
  });
});
