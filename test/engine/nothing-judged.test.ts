// A rollout promotes (exit 0) only when green was judged in at least one stage. A green failing every request is
// judged (error_rate rolls it back), whatever the failure; a rollout none of whose stages judged anything (both arms
// failing every request under a comparison, too little traffic for min_requests) rolls back at its last stage's end
// on `nothing_judged`, saying why, unless the plan sets analysis.on_unjudged: promote. Stages partly judged promote.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { recordedEngine, TWO_STAGE_MS, twoStagePlan } from './two-stages.js';
import type { ArmClient, EngineDeps } from '../../src/engine/deps.js';
import type { ArmName } from '../../src/plan/plan.js';
import type { FailureClass, UpstreamResult } from '../../src/upstream/types.js';
import { buildReport, renderJunit } from '../../src/report/outcome/index.js';
import { planFromYaml } from '../helpers/plans.js';

/** Two 2 s stages: at 20 req/s, 20 green requests in stage 1 and 40 in stage 2 (min_requests 10). */
const planText = (...analysis: string[]) =>
  twoStagePlan('nothing-judged', ['interval: 500ms', 'min_requests: 10', ...analysis], { upstream: ', retries: { max: 0 }' });

const ERROR_RATE = 'thresholds: { error_rate: 0.05 }';
const COMPARE = 'compare_to_blue: { max_error_rate_increase: 0.05 }';

/** An arm answering every request 10 ms later: well, or failing with `failure` (a 500, a reset, a timeout...). */
function arm(name: ArmName, clock: FakeClock, failure?: FailureClass): ArmClient {
  return {
    send: (request) =>
      new Promise<UpstreamResult>((resolve) => {
        const result: UpstreamResult = {
          arm: name,
          model: name,
          ok: failure === undefined,
          content: 'a fine answer here',
          latencyMs: 10,
          attempts: 1,
          stream: request.stream,
          ...(failure !== undefined && { failure, errorMessage: `${name} arm: ${failure}` }),
        };
        clock.setTimer(() => resolve(result), 10);
      }),
    listModels: async () => ({ ids: [], status: 200 }),
  };
}

/** Arrivals on the fake clock every `gapMs(ms since start)`. */
function arrivals(clock: FakeClock, gapMs: (elapsed: number) => number): EngineDeps['arrivals'] {
  const start = clock.now();
  return (onArrival) => {
    let timer: { cancel(): void } | undefined;
    const tick = () => {
      onArrival();
      timer = clock.setTimer(tick, gapMs(clock.now() - start));
    };
    return { start: () => (timer = clock.setTimer(tick, gapMs(0))), stop: () => timer?.cancel() };
  };
}

/** 20 req/s; THIN: 2 req/s, so green answers 1 request in stage 1 (half of 3, the first to blue) and 4 in stage 2, under min_requests. */
const STEADY = () => 50;
const THIN = () => 500;

function setup(yaml: string, fails: Partial<Record<ArmName, FailureClass>>, extra: Partial<EngineDeps> = {}, gapMs: (elapsed: number) => number = STEADY) {
  const plan = planFromYaml(yaml);
  const clock = new FakeClock();
  const { engine, events, states } = recordedEngine({
    plan,
    clock,
    clients: { blue: arm('blue', clock, fails.blue), green: arm('green', clock, fails.green) },
    arrivals: arrivals(clock, gapMs),
    ...extra,
  });
  const run = async () => {
    const done = engine.run();
    await clock.advance(2 * TWO_STAGE_MS + 1_000);
    return done;
  };
  return { engine, events, states, plan, run };
}

describe('a green failing every request is judged', () => {
  for (const failure of ['server_error', 'connection', 'timeout', 'bad_response', 'rate_limited'] as const) {
    it(`rolls back on error_rate in stage 1 when green alone fails every request (${failure})`, async () => {
      const { run } = setup(planText(ERROR_RATE), { green: failure });
      const outcome = await run();
      expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'error_rate' } });
      expect(outcome.reason).toContain(`in stage 1; green failures: ${failure} `);
      expect(outcome.reason).not.toContain('blue fails the same way');
    });
  }

  it('rolls back on error_rate when both arms fail every request, saying blue fails the same way', async () => {
    const { run } = setup(planText(ERROR_RATE), { blue: 'connection', green: 'connection' });
    const outcome = await run();
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'error_rate' } });
    expect(outcome.reason).toContain('blue fails the same way (connection ');
    expect(outcome.reason).toContain('likely the upstream or its key, not green');
  });

  it('rolls back on the comparison when green alone fails every request under a plan without an error_rate', async () => {
    const { run } = setup(planText(COMPARE), { green: 'server_error' });
    expect(await run()).toMatchObject({ phase: 'rolled_back', breach: { rule: 'compare_to_blue.max_error_rate_increase' } });
  });
});

describe('a rollout that judged nothing', () => {
  it('rolls back at the last stage when both arms fail every request (a comparison alone passes them), blaming the upstream', async () => {
    // Green fails as often as blue: the comparison never breaches, and every stage used to pass to a promotion.
    const { run, events, states, plan } = setup(planText(COMPARE), { blue: 'auth', green: 'auth' });
    const outcome = await run();
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'nothing_judged', figure: 0, limit: 1, unit: 'count' } });
    expect(outcome.reason).toMatch(
      /^nothing was judged in any of its 2 stages \(stage 1: green failed all \d+ requests \(auth \d+\), and blue all \d+ requests in the rollout so far; stage 2: green failed all \d+ requests \(auth \d+\), and blue all \d+ requests in the rollout so far\): a green never judged is not promoted; both arms failing every request: likely the upstream, its key or the requests the plan sends \(upstream.headers, request\), not green \(analysis.on_unjudged: promote promotes such a rollout anyway\)$/,
    );
    // Stage 1 passed saying why nothing of it was judged; stage 2 (the last) fails on it.
    const passed = events.filter((e) => e.type === 'stage_passed');
    expect(passed.map((e) => e.stage)).toEqual([0]);
    expect(passed[0]!.message).toMatch(
      /^stage 1\/2 passed at 50% green \(undecided: compare_to_blue.max_error_rate_increase\): green answered none of its \d+ requests in this stage successfully \(auth \d+\), so nothing of its answers was judged; blue failed all \d+ requests in the rollout so far too: likely the upstream/,
    );
    expect(events.map((e) => e.type)).toContain('breach');
    expect(events.find((e) => e.type === 'rolled_back')?.message).toBe('rolling back to blue on nothing_judged');
    const final = states.at(-1)!;
    expect(final.stages.map((s) => s.verdict)).toEqual(['passed', 'failed']);
    expect(final.greenWeight).toBe(0);
    expect(final.breach?.sample).toBe(final.stages[0]!.arms.green.requests + final.stages[1]!.arms.green.requests);
    // The reports say the same: not promoted, the last stage a failure on nothing_judged.
    const report = buildReport({ snapshot: final, plan, version: '0.0.0' });
    expect(report.outcome).toMatchObject({ promoted: false, exitCode: 10, breach: { rule: 'nothing_judged', stageIndex: 1 } });
    expect(renderJunit(report)).toMatch(/<testcase name="stage 2[^"]*"[^>]*>\s*<failure message="nothing was judged/);
  });

  it('rolls back when every stage had too few green requests for min_requests, and says so', async () => {
    const { run } = setup(planText(ERROR_RATE), {}, {}, THIN);
    const outcome = await run();
    expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10, breach: { rule: 'nothing_judged' } });
    expect(outcome.reason).toBe(
      'nothing was judged in any of its 2 stages (stage 1: green answered 1 request, under analysis.min_requests (10); stage 2: green answered 4 requests, under analysis.min_requests (10)): a green never judged is not promoted; too little traffic for min_requests: longer stages or more requests (analysis.on_unjudged: promote promotes such a rollout anyway)',
    );
  });

  it('promotes with analysis.on_unjudged: promote, saying nothing was judged (exit 0)', async () => {
    const { run, events } = setup(planText(ERROR_RATE, 'on_unjudged: promote'), {}, {}, THIN);
    const outcome = await run();
    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(outcome.reason).toBe(
      'all 2 stages passed, though nothing was judged in any stage (green answered fewer requests than analysis.min_requests); g takes 100% of traffic',
    );
    expect(events.filter((e) => e.type === 'stage_passed')).toHaveLength(2);
  });

  it('promotes when some stage was judged, naming the stages that were not', async () => {
    // Stage 1 judged green on 20 good answers; stage 2 (the last, at 100%) got 4, too few to judge.
    const { run } = setup(planText(ERROR_RATE), {}, {}, (elapsed) => (elapsed < TWO_STAGE_MS ? 50 : 500));
    const outcome = await run();
    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(outcome.reason).toBe(
      'all 2 stages passed, though nothing was judged in stage 2 (green answered fewer requests than analysis.min_requests); g takes 100% of traffic',
    );
  });

  it('counts the stages a dead run judged (rollout --resume): a resumed last stage judging nothing still promotes', async () => {
    // The dead run passed stage 1 on 20 good green answers; the resumed stage 2 gets too few.
    const judged = setup(planText(ERROR_RATE), {});
    expect(await judged.run()).toMatchObject({ phase: 'promoted' });
    const saved = judged.states.at(-1)!.stages[0]!;
    expect(saved.checks?.length).toBeGreaterThan(0);
    const resumed = setup(planText(ERROR_RATE), {}, { startStage: 1, carried: [saved] }, THIN);
    const outcome = await resumed.run();
    expect(outcome).toMatchObject({ phase: 'promoted', exitCode: 0 });
    expect(outcome.reason).toContain('though nothing was judged in stage 2 (green answered fewer requests');
    // Had the dead run judged nothing in stage 1 either, the resumed rollout rolls back.
    const thin = setup(planText(ERROR_RATE), {}, {}, THIN);
    expect(await thin.run()).toMatchObject({ breach: { rule: 'nothing_judged' } });
    const unjudged = setup(planText(ERROR_RATE), {}, { startStage: 1, carried: [thin.states.at(-1)!.stages[0]!] }, THIN);
    expect(await unjudged.run()).toMatchObject({ phase: 'rolled_back', breach: { rule: 'nothing_judged' } });
  });
});
