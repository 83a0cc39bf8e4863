// rollout --resume of a live plan that generates no traffic: every request it judges is the proxies' (counted apart
// as atProxies), so its own in flight at a crash can only be 0. A saved count of its own in flight (or lost) is an
// edited or corrupt state.json, left out as one past max_in_flight is; before, traffic.max_in_flight's default (200)
// bounded it, and up to 200 made-up outcomes unknown widened the stage's tests for the rest of it.
import { expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { quietEngineDeps } from './fake-deps.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent, RolloutSnapshot } from '../../src/engine/types.js';
import { emptyArmStats } from '../../src/metrics/types.js';
import { planFromYaml } from '../helpers/plans.js';

const livePlan = (generated: boolean) =>
  planFromYaml(`
name: live-resumed
upstream: { simulate: { models: {} } }
blue: { model: b }
green: { model: g }
${generated ? 'traffic: { rate: 10 }' : ''}
stages:
  - { duration: 10m, green_weight: 0.5 }
proxy: { admin: { token_env: ADMIN_TOKEN }, controller: { admin_urls: ["http://127.0.0.1:1"], generated_traffic: ${generated} } }
`);

/** Resumes stage 1 of `plan` from green's saved figures; the warnings it journals, and green's figures then. */
async function resumed(plan: ReturnType<typeof livePlan>, green: Partial<RolloutSnapshot['stages'][number]['arms']['green']>) {
  const clock = new FakeClock();
  const events: RolloutEvent[] = [];
  const arms = { blue: { ...emptyArmStats(), requests: 10, successes: 10 }, green: { ...emptyArmStats(), requests: 10, successes: 10, ...green } };
  const engine = new RolloutEngine(quietEngineDeps(plan, clock, events, { startStage: 0, carried: [{ arms }] }));
  const done = engine.run();
  await clock.advance(0);
  const figures = engine.snapshot().stages[0]!.arms.green;
  engine.abort();
  await clock.advance(1_000);
  await done;
  return { warnings: events.filter((event) => event.type === 'warning').map((event) => event.message), green: figures };
}

it("leaves out an arm's own requests in flight or lost at a crash when the live plan generates no traffic", async () => {
  const plan = livePlan(false);
  const inFlight = await resumed(plan, { inFlight: 7, atProxies: 4 });
  expect(inFlight.warnings).toEqual([
    "state.json's stage 1 green counts: 3 requests of its own in flight at the crash, but the plan generates no traffic (the proxies' are counted apart): left out, so its tests start again on this run's requests",
  ]);
  expect(inFlight.green).toMatchObject({ requests: 0 });
  expect(inFlight.green.lost).toBeUndefined();
  const lost = await resumed(plan, { lost: 5, lostCrashes: 1 });
  expect(lost.warnings).toEqual([
    "state.json's stage 1 green counts: 5 requests of its own lost at crashes, but the plan generates no traffic (the proxies' are counted apart): left out, so its tests start again on this run's requests",
  ]);
  // The proxies' own in flight are not the rollout's: carried as they were, nothing lost.
  const proxies = await resumed(plan, { inFlight: 4, atProxies: 4 });
  expect(proxies.warnings).toEqual([]);
  expect(proxies.green).toMatchObject({ requests: 10 });
  expect(proxies.green.lost).toBeUndefined();
});

it('still bounds them by max_in_flight when the live plan also generates traffic', async () => {
  const plan = livePlan(true);
  const { warnings, green } = await resumed(plan, { inFlight: 7, atProxies: 4 });
  expect(warnings).toEqual([]);
  expect(green).toMatchObject({ requests: 10, lost: 3 });
});
