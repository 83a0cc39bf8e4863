// One client's own bad requests through a real proxy in a live rollout: a broken integration (or a hostile client)
// whose sticky id lands on green, sending requests both models refuse (400), rolled a healthy green back when every
// 4xx was green's failure. With fallback on, blue refusing them too makes them the client's (docs/proxy.md).
import { describe, expect, it } from 'vitest';
import { hashString } from '../../src/core/random.js';
import { stickyPoint } from '../../src/split/index.js';
import { runCli } from '../helpers/cli.js';
import type { Running } from '../proxy/helpers.js';
import { until } from '../helpers/until.js';
import { ADMIN_TOKEN, liveFixture, savedStage, writeRolloutPlan } from './helpers.js';

const fixture = liveFixture();

/** A client sending, on one sticky id, requests with no messages (the simulator refuses them: 400) until stopped. */
class BrokenIntegration {
  refused = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(proxy: Running, user: string) {
    this.loop = (async () => {
      while (this.running) {
        try {
          const response = await fetch(`${proxy.baseUrl}/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: 'Bearer app-key' },
            body: JSON.stringify({ model: 'gpt-4o', user, messages: [] }),
          });
          await response.arrayBuffer();
          if (response.status === 400) this.refused++;
        } catch {
          // The proxy closing under it at the test's end.
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

describe('a client’s own bad requests in a live rollout', () => {
  it('do not roll back a healthy green when one sticky client on green sends only requests both models refuse', async () => {
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
        return ended || ((green?.clientErrors ?? 0) >= 40 && (green?.requests ?? 0) >= 20);
      }, "the client's refusals judged beside green's own requests");
      if (!ended) expect((await runCli(['promote'], { cwd: dir })).code).toBe(0);
      const result = await run;
      expect(result.code, result.stderr).toBe(0);
      const stage = savedStage(dir);
      const green = stage?.arms.green;
      expect(green?.failures).toBe(0);
      expect(green?.failuresByClass.client_error).toBeUndefined();
      // Blue refused every one of them too: none counts against either arm.
      expect(stage?.arms.blue.failures).toBe(0);
      expect(broken.refused).toBeGreaterThanOrEqual(40);
    } finally {
      await broken.stop();
    }
  });
});
