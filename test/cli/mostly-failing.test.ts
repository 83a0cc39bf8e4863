// A green failing 99% of its requests under a plan whose only rule compares it with blue, on the built-in simulator:
// beside a healthy blue the comparison rolls it back in stage 1 (exit 10), the breach's counts being the requests
// judged, not nothing_judged; beside a blue failing as often (97% both) no rule can fail it, and its handful of answers
// judge nothing of it, so the rollout rolls back on nothing_judged (exit 10, naming the upstream) where it used to
// promote on them (exit 0: 4 answers of 404 at 99%, checked by hand before the fix).
// In-process (the CLI's `main`, as `bluegreen rollout --plain` runs it): the verdict, its exit code and its words are
// the same as the binary's, without a process start for each.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { halfThenAll, planYaml, tempDir, writePlan } from '../helpers/plans.js';
import { readState } from '../e2e/helpers.js';

function writeErrorRatesPlan(dir: string, blueErrorRate: number, greenErrorRate: number): void {
  const model = (errorRate: number) => `{ latency: { p50: 5ms, p95: 20ms }, error_rate: ${errorRate} }`;
  writePlan(
    planYaml({
      name: 'mostly-failing',
      upstream: `api: openai, simulate: { seed: 3, models: { blue-m: ${model(blueErrorRate)}, green-m: ${model(greenErrorRate)} } }, timeout: { request: 30s }, retries: { max: 0 }`,
      models: { blue: 'blue-m', green: 'green-m' },
      // ~150 green requests over both stages (of which the 97% plan's green answers a few), at 50/s in 4 s rather
      // than at 20/s in 10 s: the same requests, sent sooner.
      traffic: 'rate: 50, synthetic: { prompts: [hello there, how are you] }',
      stages: halfThenAll('2s'),
      analysis: ['interval: 200ms', 'min_requests: 10', 'compare_to_blue: { max_error_rate_increase: 0.05 }'],
    }),
    dir,
  );
}

/** `bluegreen rollout plan.yaml --plain --seed 5` in `dir`, run to its end: its exit code, its stderr and its saved state. */
async function rollout(dir: string): Promise<{ code: number; stderr: string; state: Record<string, unknown> }> {
  const { code, stderr } = await runCli(['rollout', 'plan.yaml', '--plain', '--seed', '5'], { cwd: dir });
  return { code, stderr, state: readState(dir) };
}

interface SavedStage {
  verdict: string;
  arms: Record<'blue' | 'green', { requests: number; successes: number; failures: number }>;
  checks?: { rule: string; status: string; sample: number; blueSample?: number }[];
}

describe('a green failing 99% of its requests under a comparison-only plan', () => {
  it('is rolled back by the comparison in stage 1 beside a healthy blue (exit 10), on the requests it judged', async () => {
    const dir = tempDir();
    writeErrorRatesPlan(dir, 0, 0.99);
    const { code, stderr, state } = await rollout(dir);
    expect(code).toBe(10);
    expect(state).toMatchObject({ phase: 'rolled_back', greenWeight: 0, breach: { rule: 'compare_to_blue.max_error_rate_increase' } });
    const stages = state.stages as SavedStage[];
    expect(stages.map((stage) => stage.verdict)).toEqual(['failed', 'skipped']);
    // The breach judged at least min_requests of each arm, no more than the stage's figures hold (answers after the
    // judgement count in the figures only).
    const check = stages[0]?.checks?.find((c) => c.rule === 'compare_to_blue.max_error_rate_increase');
    expect(check?.status).toBe('breach');
    const green = stages[0]?.arms.green;
    expect(check?.sample).toBeGreaterThanOrEqual(10);
    expect(check?.sample).toBeLessThanOrEqual(green?.requests ?? 0);
    expect(check?.blueSample).toBeGreaterThanOrEqual(10);
    expect(green?.failures).toBeGreaterThan(0.9 * (green?.requests ?? 0));
    expect(stderr).toContain('exit 10 — rolled back to blue: green error rate');
    expect(stderr).toContain('in stage 1');
    expect(stderr).not.toContain('nothing was judged');
  }, 90_000);

  it('rolls back on nothing_judged beside a blue failing as often (exit 10), not promoted on a few answers', async () => {
    const dir = tempDir();
    // 97% on both arms: green answers a few of its ~150 requests (the case a promotion used to rest on).
    writeErrorRatesPlan(dir, 0.97, 0.97);
    const { code, stderr, state } = await rollout(dir);
    const stages = state.stages as SavedStage[];
    expect(stages.some((stage) => stage.arms.green.successes > 0)).toBe(true);
    expect(code).toBe(10);
    expect(state).toMatchObject({ phase: 'rolled_back', greenWeight: 0, breach: { rule: 'nothing_judged' } });
    expect(stderr).toContain('exit 10 — rolled back to blue: nothing was judged in any of its 2 stages (stage 1: green failed ');
    expect(stderr).toMatch(/both arms failing (nearly )?every request: likely the upstream/);
    expect(stderr).not.toMatch(/\bpromoted: /);
  }, 90_000);
});
