// What a stage says when its time is up: passed, and, when it passed undecided on fewer green requests than
// analysis.min_requests (a live rollout whose application sent next to nothing), that nothing was judged.
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/analysis/types.js';
import { endings } from '../../src/engine/endings.js';
import { stageEndStep } from '../../src/engine/stage-end.js';
import type { Unjudged } from '../../src/engine/unjudged.js';
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

  it('counts streamed requests for ttft_p95, which judges only those', () => {
    const ttft = (sample: number): CheckResult => ({ ...check('waiting', sample), rule: 'ttft_p95', unit: 'ms', limit: 2000 });
    const floor = plan.analysis.min_requests;
    // A plan without streaming: green answered plenty, none of them streamed.
    expect(stageEndStep(plan, 0, [ttft(0)], 0, 0.5).message).toBe(
      `stage 1/${plan.stages.length} passed at 50% green (undecided: ttft_p95): green answered 0 streamed requests in this stage, under analysis.min_requests (${floor}), so ttft_p95 (judged on streamed requests only) was not judged`,
    );
    expect(stageEndStep(plan, 0, [check('ok', 200), ttft(1)], 0, 0.5).message).toContain(
      '(undecided: ttft_p95): green answered 1 streamed request in this stage',
    );
    expect(stageEndStep(plan, 0, [check('waiting', 3), ttft(1)], 0, 0.5).message).toContain(
      'green answered 3 requests in this stage, under analysis.min_requests',
    );
    expect(stageEndStep(plan, 0, [ttft(floor)], 0, 0.5).message).toBe(`stage 1/${plan.stages.length} passed at 50% green (undecided: ttft_p95)`);
  });

  it('says when a comparison with blue had no blue requests to judge against (a stage at 100% green first)', () => {
    const guard = (blueSample: number): CheckResult => ({ ...check('waiting', 400), rule: 'guard.green_fails_more_than_blue', limit: 0, blueSample });
    const floor = plan.analysis.min_requests;
    expect(stageEndStep(plan, 0, [guard(0)], 0, 1).message).toBe(
      `stage 1/${plan.stages.length} passed at 100% green (undecided: guard.green_fails_more_than_blue): blue answered 0 requests in the rollout so far, under analysis.min_requests (${floor}), so guard.green_fails_more_than_blue (judged against blue) was not judged`,
    );
    // Below 100% green the comparisons judge against the stage's own blue...
    expect(stageEndStep(plan, 0, [guard(3)], 0, 0.9).message).toContain(': blue answered 3 requests in this stage, under analysis.min_requests');
    // ...unless the stage plans fewer than 100 blue requests (src/analysis/reference.ts): then the rollout's so far.
    const short = planFromYaml(simulatedPlan('stage-end', '5s', 0.5));
    expect(stageEndStep(short, 0, [guard(3)], 0, 0.5).message).toContain(': blue answered 3 requests in the rollout so far, under analysis.min_requests');
    // Every rule waited for blue: nothing of green was judged, though green answered plenty.
    expect(stageEndStep(plan, 0, [guard(0)], 0, 1)).toMatchObject({ unjudged: { kind: 'few', arm: 'blue', sample: 0, span: 'in the rollout so far' } });
    expect(stageEndStep(plan, 0, [guard(3)], 0, 0.9)).toMatchObject({ unjudged: { kind: 'few', arm: 'blue', sample: 3, span: 'in this stage' } });
    // A rule judged on green alone (error_rate here) is something judged.
    expect(stageEndStep(plan, 0, [{ ...check('undecided', 400) }, guard(3)], 0, 0.9)).not.toHaveProperty('unjudged');
    expect(endings.allStagesPassed(2, 'g', [{ stage: 2, kind: 'few', arm: 'blue', sample: 0, span: 'in the rollout so far' }]).reason).toBe(
      'all 2 stages passed, though nothing was judged in stage 2 (blue answered fewer requests than analysis.min_requests to judge green against); g takes 100% of traffic',
    );
    expect(stageEndStep(plan, 0, [{ ...guard(floor), status: 'undecided' }], 0, 1).message).toBe(
      `stage 1/${plan.stages.length} passed at 100% green (undecided: guard.green_fails_more_than_blue)`,
    );
  });

  it('marks a stage that passed with nothing judged, and the promotion says which ones', () => {
    const floor = plan.analysis.min_requests;
    const step = (checks: CheckResult[]) => stageEndStep(plan, 0, checks, 0, 0.5);
    expect(step([check('waiting', 3)])).toMatchObject({ kind: 'pass', unjudged: { stage: 1, kind: 'few', arm: 'green', sample: 3 } });
    expect(step([check('undecided', floor)])).not.toHaveProperty('unjudged');
    expect(step([check('ok', 3)])).not.toHaveProperty('unjudged');
    // The health check's sample is its probes, not green's requests.
    const health: CheckResult = { rule: 'health_check', status: 'ok', figure: 0, limit: 3, unit: 'count', sample: 50, proximity: 0 };
    expect(step([check('waiting', 3), health])).toMatchObject({ kind: 'pass', unjudged: { kind: 'few', sample: 3 } });
    expect(step([check('waiting', 3), health]).message).toContain('green answered 3 requests in this stage');
    const few = (stage: number): Unjudged => ({ stage, kind: 'few', arm: 'green', sample: 3 });
    const failed = (stage: number): Unjudged => ({ stage, kind: 'failed', requests: 40, successes: 0, failures: 'server_error 40' });
    expect(endings.allStagesPassed(5, 'g', [few(1), few(2)]).reason).toBe(
      'all 5 stages passed, though nothing was judged in stages 1, 2 (green answered fewer requests than analysis.min_requests); g takes 100% of traffic',
    );
    expect(endings.allStagesPassed(2, 'g', [few(1), few(2)]).reason).toContain('passed, though nothing was judged in any stage (');
    expect(endings.allStagesPassed(2, 'g', [few(2)]).reason).toContain('nothing was judged in stage 2 (');
    expect(endings.allStagesPassed(5, 'g', [few(1), failed(4)]).reason).toBe(
      'all 5 stages passed, though nothing was judged in stages 1, 4 (green answered fewer requests than analysis.min_requests, or none successfully); g takes 100% of traffic',
    );
    expect(endings.allStagesPassed(5, 'g').reason).toBe('all 5 stages passed; g takes 100% of traffic');
  });

  it('says nothing more when the stage was decided, or undecided on enough requests', () => {
    expect(stageEndStep(plan, 0, [check('ok', 0)], 0, 0.5).message).toBe(`stage 1/${plan.stages.length} passed at 50% green`);
    const floor = plan.analysis.min_requests;
    expect(stageEndStep(plan, 0, [check('undecided', floor)], 0, 0.5).message).toBe(
      `stage 1/${plan.stages.length} passed at 50% green (undecided: error_rate)`,
    );
  });
});
