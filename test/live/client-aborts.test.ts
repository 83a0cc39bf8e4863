// Client aborts through real proxies: a request whose client goes away before the first byte reaches the
// rollout as a `client_abort` result (src/analysis/aborts.ts), so a green that never answers, whose clients
// give up at 2 s before the proxy's own 5 s timeout, is rolled back; impatient clients on both arms are not.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { ABORTS_PER_CLIENT } from '../../src/analysis/aborts.js';
import { evaluate } from '../../src/analysis/index.js';
import { createRandom, hashString } from '../../src/core/random.js';
import type { ArmStats } from '../../src/metrics/index.js';
import { stickyPoint } from '../../src/split/index.js';
import type { RolloutSnapshot } from '../../src/engine/types.js';
import { runCli } from '../helpers/cli.js';
import { analysisConfig } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';

import { ADMIN_TOKEN, liveFixture, promoteWhen, savedStage, writeRolloutPlan } from './helpers.js';

const fixture = liveFixture();

type SavedArms = NonNullable<ReturnType<typeof savedStage>>['arms'];

/** A rollout of one 5-minute stage at 50% (longer than any test) on `proxies`, promoted once `judgedEnough` holds for its saved figures. */
async function promotedOnceJudged(proxies: Running[], judgedEnough: (arms: SavedArms | undefined) => boolean, what: string) {
  const dir = writeRolloutPlan({ thresholds: 'latency_p95: 10s', stages: ['{ duration: 5m, green_weight: 0.5 }'] }, proxies);
  const run = runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
  await promoteWhen(dir, run, () => judgedEnough(savedStage(dir)?.arms), what);
  return { dir, result: await run };
}

/** An application whose clients give up after `timeoutMs(i)` for request i (the openai client's own timeout). */
class ImpatientApplication {
  aborted = 0;
  answered = 0;
  private running = true;
  private readonly loops: Promise<void>[];
  /** Ends the requests still waiting at stop(): a green that never answers held each for its whole timeout (2 s). */
  private readonly inFlight = new Set<AbortController>();

  /** `user(loop, i)`: the sticky id request i of a loop sends (by default one of its own per request). */
  constructor(proxy: Running, concurrency: number, timeoutMs: (i: number, loop: number) => number, user = (loop: number, i: number) => `user-${loop}-${i}`) {
    let n = 0;
    this.loops = Array.from({ length: concurrency }, async (_, id) => {
      while (this.running) {
        const i = n++;
        const request = new AbortController();
        this.inFlight.add(request);
        const client = new OpenAI({ baseURL: proxy.baseUrl, apiKey: 'app-key', maxRetries: 0, timeout: timeoutMs(i, id) });
        try {
          await client.chat.completions.create(
            { model: 'gpt-4o', user: user(id, i), messages: [{ role: 'user', content: 'hello' }] },
            { signal: request.signal },
          );
          this.answered++;
        } catch {
          this.aborted++;
        } finally {
          this.inFlight.delete(request);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const request of this.inFlight) request.abort();
    await Promise.all(this.loops);
  }
}

/** The rule the rollouts' analysis (their plans' latency_p95: 10s, min_requests 5) breaches on these figures of stage 1 at 50%, if any. */
function judged(green: ArmStats, blue: ArmStats): string | undefined {
  const config = analysisConfig({ interval: 200, min_requests: 5, thresholds: { latency_p95: 10_000 } });
  return evaluate({ stageIndex: 0, stageCount: 1, green, blue, greenWeight: 0.5, config }).breach?.rule;
}

function stateOf(dir: string): RolloutSnapshot {
  return JSON.parse(readFileSync(path.join(dir, '.bluegreen', 'state.json'), 'utf8')) as RolloutSnapshot;
}

describe('client aborts in a live rollout', () => {
  it('rolls back a green that never answers when its clients give up (2 s) before the proxy times out (5 s)', async () => {
    const proxies = await fixture.startProxies(1, { green: 'timeout_rate: 1' });
    const app = new ImpatientApplication(proxies[0] as Running, 16, () => 2000);
    try {
      // Latency only: the built-in guard judges errors. Before aborts were results the stage passed (promoted,
      // exit 0): green had no result at all, only client aborts in the proxy's /metrics.
      const dir = writeRolloutPlan({ green: 'timeout_rate: 1', thresholds: 'latency_p95: 10s', stages: ['{ duration: 20s, green_weight: 0.5 }'] }, proxies);
      const result = await runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
      expect(result.code, result.stderr).toBe(10);
      expect(result.stderr).toMatch(/guard\.green_fails_more_than_blue|built-in guard/);
      expect(result.stderr).toContain('client_abort');
      const green = stateOf(dir).stages[0]?.arms.green;
      expect(green?.failuresByClass.client_abort).toBeGreaterThan(0);
      expect(green?.successes).toBe(0);
    } finally {
      await app.stop();
    }
  });

  it('does not roll back a healthy green when clients on both arms give up early alike (seeded)', async () => {
    const proxies = await fixture.startProxies(1);
    // A seeded fifth of the requests give up after 1-4 ms, about the simulated models' latency (3-6 ms).
    const rng = createRandom(11);
    const timeouts: number[] = [];
    const app = new ImpatientApplication(proxies[0] as Running, 4, (i) => (timeouts[i] ??= rng() < 0.2 ? 1 + Math.floor(rng() * 4) : 10_000));
    const aborts = (arm: ArmStats | undefined) => arm?.failuresByClass.client_abort ?? 0;
    try {
      // A stage longer than the test, promoted once the rollout has judged aborts on both arms: two 2 s stages
      // sometimes ended on a loaded machine before a 1-4 ms timeout had fired on both.
      const { dir, result } = await promotedOnceJudged(proxies, (arms) => aborts(arms?.green) > 0 && aborts(arms?.blue) > 0, 'aborts on both arms judged');
      // Not rolled back on them while it judged them (every 200 ms until the promotion).
      expect(result.code, result.stderr).toBe(0);
      const stage = stateOf(dir).stages[0];
      // Both arms had aborts judged, and neither arm's were shown worse: the stage's final figures pass as well.
      expect(aborts(stage?.arms.green)).toBeGreaterThan(0);
      expect(aborts(stage?.arms.blue)).toBeGreaterThan(0);
      expect(judged(stage?.arms.green as ArmStats, stage?.arms.blue as ArmStats)).toBeUndefined();
    } finally {
      await app.stop();
    }
  });

  it('does not roll back a healthy green on which one sticky client gives up on almost every request', async () => {
    const proxies = await fixture.startProxies(1);
    // A sticky id the proxies' split (seeded by the plan's name) puts on green at 50%.
    const seed = hashString('live-test');
    const heavy = Array.from({ length: 100 }, (_, i) => `heavy-${i}`).find((key) => stickyPoint(seed, key) < 0.5) as string;
    // Loop 0 is that client, giving up after 1 ms (the simulated models answer in 3-6 ms); the others wait.
    const app = new ImpatientApplication(
      proxies[0] as Running,
      6,
      (_i, loop) => (loop === 0 ? 1 : 10_000),
      (loop, i) => (loop === 0 ? heavy : `user-${loop}-${i}`),
    );
    // The same figures with every abort counted as green's (the rule before the cap).
    const uncapped = ({ abortsPastClientCap: _left, ...arm }: ArmStats): ArmStats => arm;
    try {
      // A stage longer than the test, promoted once the rollout's figures hold enough of the heavy client's aborts to
      // roll green back were they all counted: a 3 s stage held too few of them on a loaded machine (a 1 ms timeout
      // often fires before the request reaches the proxy).
      const { dir, result } = await promotedOnceJudged(
        proxies,
        (arms) => arms !== undefined && judged(uncapped(arms.green), arms.blue) === 'guard.green_fails_more_than_blue',
        'enough aborts of the heavy client judged',
      );
      expect(result.code, result.stderr).toBe(0);
      const stage = stateOf(dir).stages[0];
      const green = stage?.arms.green as ArmStats;
      const blue = stage?.arms.blue as ArmStats;
      // Its aborts reached the rollout with its sticky id: all but 3 left out of the comparisons.
      expect(green.abortsPastClientCap).toBe((green.failuresByClass.client_abort ?? 0) - ABORTS_PER_CLIENT);
      // Capped, green passes; the same figures with every abort counted as green's roll it back.
      expect(judged(green, blue)).toBeUndefined();
      expect(judged(uncapped(green), blue)).toBe('guard.green_fails_more_than_blue');
    } finally {
      await app.stop();
    }
  });
});
