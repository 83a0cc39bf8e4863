// A stage's end judges every live result served in it, not only those the last poll brought in: the rollout reads
// the proxies once more before it judges the stage's end (found by hostile10: a stage as short as the poll
// interval passed "green answered 0 requests" while green failed behind the fallback). The engine drives a real
// proxy on the fake clock, with a poll interval far longer than the stage, so only that last read sees anything.
import { expect, it } from 'vitest';
import OpenAI from 'openai';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import { liveTraffic } from '../../src/live/live-source.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { planFromYaml } from '../helpers/plans.js';
import type { Running } from '../proxy/helpers.js';
import { engineOnProxies, fleetOf } from './engine-on-proxies.js';
import { liveFixture, proxyPlan } from './helpers.js';
import { until } from '../helpers/until.js';

const fixture = liveFixture();

it("judges a stage's end on the live results served since the last poll", async () => {
  const [running] = (await fixture.startProxies(1, { green: 'error_rate: 1' })) as [Running];
  const clock = new FakeClock();
  const plan = planFromYaml(proxyPlan().replace('green_weight: 0 }', 'green_weight: 0.5 }'));
  // No poll in the 1 s stage: a minute apart.
  const fleet = fleetOf([running.proxy.adminUrl as string], clock, 60_000, 60_000);
  const journal: RolloutEvent[] = [];
  const deps = engineOnProxies(plan, fleet, clock, journal, { sources: [liveTraffic({ fleet, clock, stageCount: plan.stages.length })] });
  const engine = new RolloutEngine(deps);
  const done = engine.run();
  await until(() => journal.some((event) => event.type === 'stage_started'), 'stage 1 started');
  // The application's requests in the stage: green fails every one, blue answers for it (fallback).
  const client = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
  for (let i = 0; i < 40; i++) await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `hi ${i}` }] });
  expect(running.proxy.metrics.snapshot().fallbacks).toBeGreaterThan(5);
  await clock.advance(1000);
  const outcome = await done;
  expect(outcome).toMatchObject({ phase: 'rolled_back', exitCode: 10 });
  expect(outcome.breach?.rule).toBe('error_rate');
  expect(running.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
});
