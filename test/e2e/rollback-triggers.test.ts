// End to end against the simulated upstream (and a scripted one): each rollback trigger, with its reason,
// exit code, and no green request after the rollback.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runRollout } from '../../src/cli/run-rollout.js';
import type { RolloutEvent, RolloutSnapshot, RolloutView } from '../../src/engine/types.js';
import { simulatorOnClock, type SimulatorOnClock } from '../helpers/simulator.js';
import { pace } from '../helpers/fake-clock.js';
import { testContext } from '../helpers/cli.js';
import { planFromYaml, tempDir } from '../helpers/plans.js';
import { json, openAiReply, startServer, type TestServer } from '../upstream/server.js';

const FAST = '{ latency: { p50: 3ms, p95: 8ms }, tokens_per_second: 5000, output_tokens: { min: 20, max: 30 } }';

/**
 * Its answers wait on the fake clock the rollout runs on, paced (pace()): each stage sends its planned requests, each
 * answered after exactly its drawn latency, and the rollout takes the CPU its requests cost, not the real time its
 * stages and analysis intervals last.
 */
function simulator(green: string): Promise<SimulatorOnClock> {
  return simulatorOnClock(`{ seed: 3, models: { blue-m: ${FAST}, green-m: ${green} } }`);
}

// The request timeout (on real time) is long: a request held at the simulator waits there until the clock moves on,
// and on a loaded machine that can take seconds; timed out, they were failures of both arms (at load 17 compare_to_blue,
// green 40% failing vs blue's 0%, then saw too small a difference to decide in its stages and promoted).
function plan(base: string, rest: string, greenUpstream = ''): string {
  return `
name: trigger-test
upstream: { base_url: ${base}, api_key_env: TEST_KEY, retries: { max: 0 }, timeout: { request: 30s } }
blue: { model: blue-m }
green: { model: green-m${greenUpstream} }
traffic: { rate: 60, stream: 0.3 }
${rest}
`;
}

interface Run {
  code: number;
  final: RolloutSnapshot;
  events: RolloutEvent[];
  greenDispatchedAtRollback: number | undefined;
  stderr: string;
}

const dispatched = (snapshot: RolloutSnapshot) => snapshot.stages.reduce((sum, s) => sum + s.arms.green.requests + s.arms.green.inFlight, 0);

// The rollouts still running. A rule that never breaches leaves its 5 m stages running past the test's time limit, in
// this process: stopped after each test (SIGTERM, as an operator would), they cannot load or outlast the tests after it.
const unfinished = new Map<EventEmitter, Promise<number>>();
afterEach(async () => {
  for (const signals of unfinished.keys()) signals.emit('SIGTERM');
  await Promise.allSettled(unfinished.values());
  unfinished.clear();
});

async function rollout(yaml: string, upstream: SimulatorOnClock, signals = new EventEmitter(), onStarted?: () => void): Promise<Run> {
  const dir = tempDir();
  const ctx = testContext({ cwd: dir, env: { TEST_KEY: 'sk-test-secret-123' } });
  const events: RolloutEvent[] = [];
  let greenDispatchedAtRollback: number | undefined;
  let view: RolloutView | undefined;
  const running = runRollout({
    plan: planFromYaml(yaml, dir),
    stateDir: path.join(dir, '.bluegreen'),
    seed: 5,
    ctx,
    clock: upstream.clock,
    signals,
    attachReporter: (target) => {
      view = target;
      target.onEvent((event) => {
        events.push(event);
        if (event.type === 'rolled_back' || event.type === 'interrupted') greenDispatchedAtRollback = dispatched(target.snapshot());
        if (event.type === 'stage_started' && event.stage === 0) onStarted?.();
      });
      return { finish: async () => {} };
    },
  });
  unfinished.set(signals, running);
  await pace(upstream.clock, () => view, running, upstream);
  const code = await running.finally(() => unfinished.delete(signals));
  const final = JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
  return { code, final, events, greenDispatchedAtRollback, stderr: ctx.err() };
}

function expectRolledBack(run: Run, rule: string) {
  expect(run.code).toBe(10);
  expect(run.final.phase).toBe('rolled_back');
  expect(run.final.exitCode).toBe(10);
  // A breach of another rule says which and why, with each arm's failures by class (a flake under load did not).
  const failures = JSON.stringify(run.final.stages.map((stage) => ({ blue: stage.arms.blue.failuresByClass, green: stage.arms.green.failuresByClass })));
  expect(run.final.breach?.rule, `${run.final.reason ?? ''}; failures by stage: ${failures}`).toBe(rule);
  expect(run.final.greenWeight).toBe(0);
  // Nothing went to green after the rollback: what was dispatched then is all green ever got.
  expect(run.greenDispatchedAtRollback).toBeDefined();
  expect(dispatched(run.final)).toBe(run.greenDispatchedAtRollback);
  expect(JSON.stringify(run.final)).not.toContain('sk-test-secret-123');
  expect(run.stderr).not.toContain('sk-test-secret-123');
}

const STAGES = `stages:
  - { duration: 3s, green_weight: 0.5 }
  - { duration: 3s, green_weight: 1 }`;

// For the tests of a rule's breach: stages that outlast any wait for the evidence, so the rollout ends on the breach
// however slowly a loaded machine answers (3 s stages could pass, or breach in the wrong stage, first). A rule that
// never breaches leaves the test to its time limit: it fails all the same.
const UNTIL_BREACH = `stages:
  - { duration: 5m, green_weight: 0.5 }
  - { duration: 5m, green_weight: 1 }`;

describe('rollback triggers', () => {
  it('error_rate', async () => {
    const sim = await simulator(`{ latency: { p50: 3ms, p95: 8ms }, error_rate: 0.6 }`);
    const run = await rollout(plan(sim.sim.baseUrl, `${UNTIL_BREACH}\nanalysis: { interval: 200ms, min_requests: 15, thresholds: { error_rate: 0.2 } }`), sim);
    expectRolledBack(run, 'error_rate');
    expect(run.final.breach!.figure!).toBeGreaterThan(0.2);
    expect(run.final.breach!.sample).toBeGreaterThanOrEqual(15);
    expect(run.final.reason).toMatch(
      /green error_rate \d+\.\d% \(at least [\d.]+%, 99\.5% sure\) > 20\.0% over \d+ requests(, \d+ more still running)? in stage 1/,
    );
    expect(run.final.breach!.evidence!.lower).toBeGreaterThan(0.2);
  });

  it('consecutive_errors', async () => {
    const sim = await simulator(`{ latency: { p50: 3ms, p95: 8ms }, error_rate: 1 }`);
    const run = await rollout(plan(sim.sim.baseUrl, `${UNTIL_BREACH}\nanalysis: { interval: 5s, thresholds: { consecutive_errors: 4 } }`), sim);
    expectRolledBack(run, 'consecutive_errors');
    expect(run.final.breach!.figure).toBeGreaterThanOrEqual(4);
  });

  it('latency_p95', async () => {
    const sim = await simulator(`{ latency: { p50: 150ms, p95: 250ms }, tokens_per_second: 5000 }`);
    const run = await rollout(
      plan(sim.sim.baseUrl, `${UNTIL_BREACH}\nanalysis: { interval: 200ms, min_requests: 10, thresholds: { latency_p95: 80ms } }`),
      sim,
    );
    expectRolledBack(run, 'latency_p95');
    expect(run.final.breach!.figure!).toBeGreaterThan(80);
  });

  it('quality_fail_rate', async () => {
    const sim = await simulator(FAST);
    const run = await rollout(
      plan(
        sim.sim.baseUrl,
        `${UNTIL_BREACH}\nanalysis: { interval: 200ms, min_requests: 10, thresholds: { quality_fail_rate: 0.1 }, quality: { contains: "never-in-an-answer" } }`,
      ),
      sim,
    );
    expectRolledBack(run, 'quality_fail_rate');
  });

  it('compare_to_blue', async () => {
    const sim = await simulator(`{ latency: { p50: 3ms, p95: 8ms }, error_rate: 0.4 }`);
    const run = await rollout(
      plan(sim.sim.baseUrl, `${UNTIL_BREACH}\nanalysis: { interval: 200ms, min_requests: 10, compare_to_blue: { max_error_rate_increase: 0.1 } }`),
      sim,
    );
    expectRolledBack(run, 'compare_to_blue.max_error_rate_increase');
    expect(run.final.reason).toContain('vs blue');
  });

  it('the built-in guard of a plan with no rule: green failing every request is rolled back', async () => {
    const sim = await simulator(`{ latency: { p50: 3ms, p95: 8ms }, error_rate: 1 }`);
    const run = await rollout(plan(sim.sim.baseUrl, `${UNTIL_BREACH}\nanalysis: { interval: 200ms, min_requests: 10 }`), sim);
    expectRolledBack(run, 'guard.green_fails_more_than_blue');
    expect(run.final.reason).toMatch(
      /^green error rate \(built-in guard: the plan sets no error-rate rule\) 100\.0% vs blue 0\.0%: \+100\.00? points \(at least \+[\d.]+, 99\.5% sure\) > \+0\.00? allowed/,
    );
    expect(run.final.reason).toMatch(/green failures: server_error \d+ \(server_error: "/);
  });

  it('the built-in guard of a plan whose only rule is a latency limit: a green failing fast on every request is rolled back', async () => {
    // Its errors answer in milliseconds, under the limit: the latency rule alone used to promote it (exit 0).
    const sim = await simulator(`{ latency: { p50: 3ms, p95: 8ms }, error_rate: 1 }`);
    const run = await rollout(plan(sim.sim.baseUrl, `${UNTIL_BREACH}\nanalysis: { interval: 200ms, min_requests: 10, thresholds: { latency_p95: 3s } }`), sim);
    expectRolledBack(run, 'guard.green_fails_more_than_blue');
    expect(run.final.reason).toMatch(/^green error rate \(built-in guard: the plan sets no error-rate rule\) 100\.0% vs blue 0\.0%/);
  });

  it('health_check', async () => {
    const sim = await simulator(FAST);
    // Green's own upstream answers chat well but its models list fails: only the health check can see it.
    const green: TestServer = await startServer((req, res) => {
      if (req.url.endsWith('/models') && req.method === 'GET') {
        // The first models call is the preflight; after that the upstream turns unhealthy.
        const preflight = green.requests.filter((r) => r.url.endsWith('/models')).length === 1;
        return json(preflight ? 200 : 503, preflight ? { data: [{ id: 'green-m' }] } : { error: { message: 'down' } })(req, res);
      }
      return json(200, openAiReply('A perfectly fine answer from green.'))(req, res);
    });
    const run = await rollout(
      plan(
        sim.sim.baseUrl,
        `${UNTIL_BREACH}\nanalysis: { interval: 200ms }\nhealth_check: { interval: 100ms, failures_to_rollback: 3 }`,
        `, upstream: { base_url: ${green.base} }`,
      ),
      sim,
    );
    expectRolledBack(run, 'health_check');
    // The streak as the analysis saw it at its tick (every 200 ms): 3, the limit, unless a loaded machine ran more checks
    // (100 ms apart) before that tick (6 at load 25).
    const streak = /health check failed (\d+) times in a row/.exec(run.final.reason ?? '');
    expect(Number(streak?.[1]), run.final.reason).toBeGreaterThanOrEqual(3);
  });

  it('a failing on_stage hook', async () => {
    const sim = await simulator(FAST);
    const run = await rollout(plan(sim.sim.baseUrl, `${STAGES}\nhooks: { on_stage: { exec: 'test "$BLUEGREEN_STAGE" != 2' } }`), sim);
    expectRolledBack(run, 'hook');
    expect(run.final.reason).toContain('on_stage hook for stage 2 failed');
    expect(run.final.stages[0]!.verdict).toBe('passed');
  });
});

describe('signals', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    it(`${signal} rolls back to blue and exits ${code}`, async () => {
      const sim = await simulator(FAST);
      const signals = new EventEmitter();
      const run = await rollout(plan(sim.sim.baseUrl, STAGES), sim, signals, () => setImmediate(() => signals.emit(signal)));
      expect(run.code).toBe(code);
      expect(run.final.phase).toBe('interrupted');
      expect(run.final.exitCode).toBe(code);
      expect(run.final.greenWeight).toBe(0);
      expect(run.final.reason).toContain(`interrupted by ${signal}`);
      expect(dispatched(run.final)).toBe(run.greenDispatchedAtRollback);
    });
  }
});

describe('errors nothing caught', () => {
  for (const kind of ['uncaughtException', 'unhandledRejection'] as const) {
    it(`an ${kind} during the rollout ends it on blue with the state saved, exit 1`, async () => {
      const sim = await simulator(FAST);
      const signals = new EventEmitter();
      const run = await rollout(plan(sim.sim.baseUrl, STAGES), sim, signals, () => setImmediate(() => signals.emit(kind, new Error('boom in a timer'))));
      expect(run.code).toBe(1);
      expect(run.final).toMatchObject({ phase: 'failed', exitCode: 1, greenWeight: 0, reason: 'internal error: boom in a timer' });
      expect(run.stderr).toContain('internal error (a bug, please report it): boom in a timer; rolling back to blue');
    });
  }
});
