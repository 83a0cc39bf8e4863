// thresholds.ttft_p95 is judged over streamed requests only: on generated traffic that never streams it can
// never be judged, and the rollout would promote with it undecided in every stage. validate says so.
import { describe, expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { planFromYaml } from '../helpers/plans.js';

const plan = (traffic: string, extra = '') =>
  planFromYaml(`
name: ttft
upstream: { simulate: { models: {} } }
blue: { model: a }
green: { model: b }
traffic: ${traffic}
stages:
  - { duration: 60s, green_weight: 0.5 }
analysis: { thresholds: { ttft_p95: 2s } }
${extra}`);

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
