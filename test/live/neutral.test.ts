// A flood of malformed requests on green in a live rollout through a real proxy: a broken integration (or a client
// that picked a sticky id on green) sending requests both models refuse (400) rolled a healthy green back when
// every 4xx was green's failure. Blue refusing them too makes them neutral (docs/proxy.md, "Neutral results").
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { hashString } from '../../src/core/random.js';
import { stickyPoint } from '../../src/split/index.js';
import { runCli } from '../helpers/cli.js';
import type { Running } from '../proxy/helpers.js';
import { until } from '../helpers/until.js';
import { ADMIN_TOKEN, liveFixture, savedStage, writeRolloutPlan } from './helpers.js';

const fixture = liveFixture();

/** A client sending, through the openai SDK on one sticky id, requests with no messages (refused: 400) until stopped. */
class BrokenIntegration {
  refused = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(proxy: Running, user: string) {
    const client = new OpenAI({ baseURL: proxy.baseUrl, apiKey: 'app-key', maxRetries: 0 });
    this.loop = (async () => {
      while (this.running) {
        try {
          await client.chat.completions.create({ model: 'gpt-4o', user, messages: [] });
        } catch (error) {
          if (error instanceof OpenAI.BadRequestError) this.refused++;
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

describe('a flood of malformed requests on green in a live rollout', () => {
  it('no longer rolls a healthy green back: neutral, in neither arm’s requests or failures', async () => {
    const proxies = await fixture.startProxies(1);
    // A sticky id the proxies' split (seeded by the plan's name) puts on green at 50%.
    const seed = hashString('live-test');
    const onGreen = Array.from({ length: 100 }, (_, i) => `broken-${i}`).find((key) => stickyPoint(seed, key) < 0.5) as string;
    // The application: real requests on both arms (the fixture stops it after the test).
    fixture.application(proxies, 2);
    const broken = new BrokenIntegration(proxies[0] as Running, onGreen);
    try {
      const dir = writeRolloutPlan({ thresholds: 'error_rate: 0.05', stages: ['{ duration: 5m, green_weight: 0.5 }'] }, proxies);
      const run = runCli(['rollout', 'plan.yaml', '--ci'], { cwd: dir, env: { ADMIN_TOKEN } });
      let ended = false;
      void run.then(() => (ended = true));
      // Promoted once green's judged figures hold many of the client's refusals beside real requests: every one
      // counted as green's failure, they were most of its requests, and the stage rolled back (exit 10) long before.
      await until(() => {
        const green = savedStage(dir)?.arms.green;
        return ended || ((green?.neutral ?? 0) >= 40 && (green?.requests ?? 0) >= 20);
      }, "the client's refusals recorded beside green's own requests");
      if (!ended) expect((await runCli(['promote'], { cwd: dir })).code).toBe(0);
      const result = await run;
      expect(result.code, result.stderr).toBe(0);
      const stage = savedStage(dir);
      const green = stage?.arms.green;
      expect(green?.failures).toBe(0);
      expect(green?.failuresByClass.client_error).toBeUndefined();
      // Blue refused every one of them too (its answers for green, neutral as well): no failure on either arm.
      expect(stage?.arms.blue.failures).toBe(0);
      expect(broken.refused).toBeGreaterThanOrEqual(40);
    } finally {
      await broken.stop();
    }
  });
});
