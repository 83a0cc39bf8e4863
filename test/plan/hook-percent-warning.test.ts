// BLUEGREEN_GREEN_PERCENT is a whole percent (shell arithmetic): a stage weight between two whole percents reaches an
// exec hook rounded (0.004 as 0, 0.995 as 100), so validate and the rollout's start warn and point to
// BLUEGREEN_GREEN_WEIGHT (loose19: a hook setting a gateway from the percent moved other traffic than the plan said).
import { describe, expect, it } from 'vitest';
import { planWarnings } from '../../src/plan/warnings.js';
import { hookEnv } from '../../src/hooks/exec.js';
import { planFromYaml } from '../helpers/plans.js';

const plan = (weights: number[], hooks: string) =>
  planFromYaml(`
name: percent-warning
upstream:
  simulate: { models: { a: {}, b: {} } }
blue: { model: a }
green: { model: b }
traffic: { rate: 50 }
stages:
${weights.map((weight) => `  - { duration: 1m, green_weight: ${weight} }`).join('\n')}
hooks: ${hooks}
`);
const percentWarnings = (weights: number[], hooks = '{ on_stage: { exec: ./set-weight.sh } }') =>
  planWarnings(plan(weights, hooks)).filter((warning) => warning.message.includes('BLUEGREEN_GREEN_PERCENT'));

describe('a stage weight that is not a whole percent, with an exec on_stage hook', () => {
  it('is warned, naming the stage, the rounded percent the hook gets and BLUEGREEN_GREEN_WEIGHT', () => {
    expect(percentWarnings([0.004, 0.25, 0.995, 1])).toEqual([
      {
        keyPath: 'stages[0].green_weight',
        message:
          '0.004 is not a whole percent: the on_stage exec hook gets BLUEGREEN_GREEN_PERCENT=0 (rounded), so a hook that sets traffic from it moves 0% to green; read BLUEGREEN_GREEN_WEIGHT (0.004) instead, or use a whole percent',
      },
      {
        keyPath: 'stages[2].green_weight',
        message:
          '0.995 is not a whole percent: the on_stage exec hook gets BLUEGREEN_GREEN_PERCENT=100 (rounded), so a hook that sets traffic from it moves 100% to green; read BLUEGREEN_GREEN_WEIGHT (0.995) instead, or use a whole percent',
      },
    ]);
  });

  it('matches what the hook is given', () => {
    const event = { event: 'stage', plan: 'p', stage: 1, stages: 1, blueModel: 'a', greenModel: 'b', at: 0 } as const;
    expect(hookEnv({ ...event, greenWeight: 0.995 }, {})).toMatchObject({ BLUEGREEN_GREEN_PERCENT: '100', BLUEGREEN_GREEN_WEIGHT: '0.995' });
  });

  it('whole percents (0.07, 0.29: not exact in binary), a webhook or no on_stage hook: no warning', () => {
    expect(percentWarnings([0.07, 0.29, 0.57, 1])).toEqual([]);
    expect(percentWarnings([0.004, 1], '{ on_stage: { webhook: "https://hooks.example.com/w" } }')).toEqual([]);
    expect(percentWarnings([0.004, 1], '{ on_rollback: { exec: ./back.sh } }')).toEqual([]);
  });
});
