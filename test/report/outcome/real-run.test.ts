// A real, short rollout against the simulated upstream, in-process: the reports are built from the
// state.json it leaves, written as the CLI will write them, and read back with the schema and an XML parser.
import { EventEmitter } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRollout } from '../../../src/cli/run-rollout.js';
import { VERSION } from '../../../src/cli/version.js';
import type { RolloutSnapshot, RolloutView } from '../../../src/engine/types.js';
import type { Plan } from '../../../src/plan/plan.js';
import { buildReport, reportSchema, writeReports } from '../../../src/report/outcome/index.js';
import type { SimulatorOptions } from '../../../src/sim/index.js';
import { simulatorOnClock, type SimulatorOnClock } from '../../helpers/simulator.js';
import { testContext } from '../../helpers/cli.js';
import { planFromYaml, tempDir } from '../../helpers/plans.js';
import { pace } from '../../helpers/fake-clock.js';
import { caseNamed, parseJunit } from './xml-helpers.js';

const SECRET = 'sk-test-secret-123';
const FAST = '{ latency: { p50: 3ms, p95: 8ms }, tokens_per_second: 5000, output_tokens: { min: 20, max: 30 } }';

/** Its answers wait on the rollout's fake clock (pace()): each latency the rollout records is the simulator's draw. */
function simulator(green: string, options?: Omit<SimulatorOptions, 'clock'>): Promise<SimulatorOnClock> {
  return simulatorOnClock(`{ seed: 3, models: { blue-m: ${FAST}, green-m: ${green} } }`, options);
}

// The latency rule is here to be reported as a rule, passed, beside the one that fails: on the simulator's clock each
// latency is its draw, however loaded the machine (the longest, a stream of the bad green's 120 tokens at the default
// 80 tokens/s, 1.5 s). The request timeout runs on real time, which a
// request held at the simulator spends until the clock moves on (pace()): 30 s is past any stall (a request timed
// out is a failure of both arms, for error_rate).
function planText(base: string, stages: string): string {
  return `
name: report-run
upstream: { base_url: ${base}, api_key_env: TEST_KEY, retries: { max: 0 }, timeout: { request: 30s } }
blue:  { model: blue-m,  price: { input_per_mtok: 2.50, output_per_mtok: 10.00 } }
green: { model: green-m, price: { input_per_mtok: 0.40, output_per_mtok: 1.60 } }
traffic: { rate: 60, stream: 0.3 }
stages:
${stages}
analysis: { interval: 200ms, min_requests: 15, thresholds: { error_rate: 0.2, latency_p95: 5s } }
`;
}

async function rollout(
  yaml: string,
  upstream: SimulatorOnClock,
  watch?: (view: RolloutView) => void,
): Promise<{ code: number; dir: string; plan: Plan; snapshot: RolloutSnapshot }> {
  const dir = tempDir();
  const plan = planFromYaml(yaml, dir);
  // Paced on the simulator's clock (pace()): each stage sends its planned requests and ends with all of them answered,
  // each timed exactly as the simulator drew it, however loaded the machine.
  const { clock } = upstream;
  let view: RolloutView | undefined;
  const running = runRollout({
    plan,
    stateDir: path.join(dir, '.bluegreen'),
    seed: 5,
    ctx: testContext({ cwd: dir, env: { TEST_KEY: SECRET } }),
    clock,
    signals: new EventEmitter(),
    attachReporter: (target) => {
      view = target;
      watch?.(target);
      return { finish: async () => {} };
    },
  });
  await pace(clock, () => view, running, upstream);
  const code = await running;
  const snapshot = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
  return { code, dir, plan, snapshot };
}

/**
 * An arm's latencies in the report are the simulator's draws, to the millisecond (timed on its clock, as on the real
 * one): the plain answers' p50 of 3 ms, and a p95 the streams (30%) set, each its time to first token (about 1 ms)
 * and then its remaining tokens on the next 25 ms tick. Timed on a clock the answers do not wait on, they read 0 ms.
 */
function expectSimulatedLatency(latency: { p50: number | null; p95: number | null }): void {
  expect(latency.p50).toBeGreaterThanOrEqual(2);
  expect(latency.p50).toBeLessThanOrEqual(8);
  expect(latency.p95).toBeGreaterThanOrEqual(25);
  expect(latency.p95).toBeLessThanOrEqual(32);
}

function write(run: { dir: string; plan: Plan; snapshot: RolloutSnapshot }) {
  const summary = path.join(run.dir, 'summary.md');
  writeFileSync(summary, '');
  let stdout = '';
  const report = buildReport({ snapshot: run.snapshot, plan: run.plan, version: VERSION });
  writeReports({
    report,
    jsonFile: 'r.json',
    junitFile: 'r.xml',
    cwd: run.dir,
    // The key is in the environment the rollout ran with; reports must never pick it up.
    env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, TEST_KEY: SECRET },
    stdout: { write: (text: string) => (stdout += text) },
  });
  const read = (name: string) => readFileSync(path.join(run.dir, name), 'utf8');
  const files = { json: read('r.json'), xml: read('r.xml'), summary: read('summary.md'), stdout };
  for (const text of Object.values(files)) expect(text).not.toContain(SECRET);
  return files;
}

describe('reports from a real run', () => {
  it('a rollback in stage 2: the JSON names the rule and figures, the JUnit fails that stage and rule', async () => {
    // Green turns bad in stage 2, once every request of stage 1 has answered: the simulator's clock for its
    // changes stands still until then. On wall time (a change at 3 s) a loaded machine moved the fault into stage 1,
    // and a stage-1 request still in flight at its end (answered seconds late under load) could meet it.
    let running: RolloutView | undefined;
    let faulty = false;
    const stage1Answered = (snapshot: RolloutSnapshot) =>
      snapshot.stageIndex === 1 && snapshot.stages[0]!.arms.blue.inFlight + snapshot.stages[0]!.arms.green.inFlight === 0;
    const startedAt = Date.now();
    const sim = await simulator(`{ latency: { p50: 3ms, p95: 8ms }, changes: [ { at: 1s, error_rate: 0.7 } ] }`, {
      now: () => {
        faulty ||= running !== undefined && stage1Answered(running.snapshot());
        return startedAt + (faulty ? 1000 : 0);
      },
    });
    const stages = '  - { duration: 2s, green_weight: 0.5 }\n  - { duration: 6s, green_weight: 1 }';
    const run = await rollout(planText(sim.sim.baseUrl, stages), sim, (view) => (running = view));
    expect(run.code, run.snapshot.reason).toBe(10);
    const files = write(run);

    const report = reportSchema.parse(JSON.parse(files.json));
    expect(report.bluegreenVersion).toBe(VERSION);
    expect(report.plan).toMatchObject({ name: 'report-run', blueModel: 'blue-m', greenModel: 'green-m', hash: run.plan.source.hash });
    expect(report.outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10, promoted: false, stageIndex: 1 });
    expect(report.outcome.breach).toMatchObject({ rule: 'error_rate', limit: 0.2, unit: 'ratio', stageIndex: 1 });
    expect(report.outcome.breach!.figure!).toBeGreaterThan(0.2);
    expect(report.outcome.breach!.sample).toBeGreaterThanOrEqual(15);
    expect(report.stages.map((s) => s.verdict)).toEqual(['passed', 'failed']);
    expect(report.stages[0]!.arms.blue.requests).toBeGreaterThan(0);
    expectSimulatedLatency(report.stages[0]!.arms.blue.latency);
    expect(report.stages[1]!.arms.green.failuresByClass.server_error).toBeGreaterThan(0);
    expect(report.totals.green.costUsd).toBeGreaterThan(0);
    expect(report.cost.greenVsBlue!).toBeLessThan(0);

    const suite = parseJunit(files.xml).testsuites.testsuite[0]!;
    expect(suite['@_name']).toBe('bluegreen: report-run');
    expect(suite.testcase.map((c) => c['@_name'])).toEqual([
      'stage 1 (50% green)',
      'stage 1 error_rate',
      'stage 1 latency_p95',
      'stage 2 (100% green)',
      'stage 2 error_rate',
      'stage 2 latency_p95',
    ]);
    expect(suite['@_failures']).toBe('2');
    const failed = caseNamed(suite, 'stage 2 error_rate').failure as { '@_message': string; '#text': string };
    expect(failed['@_message']).toMatch(/^green error_rate \d+\.\d% > 20\.0% over \d+ requests \(bounds [\d.]+–[\d.]+%, each [\d.]+% sure\)$/);
    expect(failed['#text']).toContain(`sample: ${report.outcome.breach!.sample}`);
    expect((caseNamed(suite, 'stage 2 (100% green)').failure as { '@_message': string })['@_message']).toBe(report.outcome.reason);
    expect(caseNamed(suite, 'stage 1 (50% green)').failure).toBeUndefined();

    expect(files.summary).toContain('## bluegreen: ROLLED BACK');
    expect(files.stdout).toMatch(
      /^::error title=bluegreen rollback::report-run: rolled back from green-m to blue-m in stage 2\/2 \(100%25 green\)%0Agreen error_rate/,
    );
  });

  it('a promotion: no failures, and no annotation', async () => {
    const sim = await simulator(FAST);
    const run = await rollout(planText(sim.sim.baseUrl, '  - { duration: 1s, green_weight: 0.5 }\n  - { duration: 1s, green_weight: 1 }'), sim);
    expect(run.code, run.snapshot.reason).toBe(0);
    const files = write(run);
    const report = reportSchema.parse(JSON.parse(files.json));
    expect(report.outcome).toMatchObject({ phase: 'promoted', exitCode: 0, promoted: true, breach: null });
    expectSimulatedLatency(report.stages[1]!.arms.green.latency);
    const suite = parseJunit(files.xml).testsuites.testsuite[0]!;
    expect(suite['@_failures']).toBe('0');
    expect(suite['@_errors']).toBe('0');
    expect(files.summary).toContain('## bluegreen: PROMOTED');
    expect(files.stdout).toBe('');
  });
});
