// What a stage says when its time is up: passed, and, when it passed undecided on fewer green requests than
// analysis.min_requests (a live rollout whose application sent next to nothing), that nothing was judged.
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/analysis/types.js';
import { stageEndStep } from '../../src/engine/stage-end.js';
import { planFromYaml, simulatedPlan } from '../helpers/plans.js';

const plan = planFromYaml(simulatedPlan('stage-end', '1m', 0.5));
const check = (status: CheckResult['status'], sample: number): CheckResult => ({
  rule: 'error_rate',
  status,
  figure: sample > 0 ? 0 : null,
  limit: 0.05,
  unit: 'ratio',
  sample,
  proximity: null,
});

describe('stageEndStep', () => {
  it('says a stage passed undecided on too few green requests was not judged', () => {
    const floor = plan.analysis.min_requests;
    expect(stageEndStep(plan, 0, [check('waiting', 0)], 0, 0.5).message).toBe(
      `stage 1/${plan.stages.length} passed at 50% green (undecided: error_rate): green answered 0 requests in this stage, under analysis.min_requests (${floor}), so nothing was judged`,
    );
    expect(stageEndStep(plan, 0, [check('waiting', 1)], 0, 0.5).message).toContain('green answered 1 request in this stage');
  });

  it('says nothing more when the stage was decided, or undecided on enough requests', () => {
    expect(stageEndStep(plan, 0, [check('ok', 0)], 0, 0.5).message).toBe(`stage 1/${plan.stages.length} passed at 50% green`);
    const floor = plan.analysis.min_requests;
    expect(stageEndStep(plan, 0, [check('undecided', floor)], 0, 0.5).message).toBe(
      `stage 1/${plan.stages.length} passed at 50% green (undecided: error_rate)`,
    );
  });
});
