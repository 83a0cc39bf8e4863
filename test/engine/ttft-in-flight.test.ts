// ttft_p95 with mostly unstreamed traffic in flight (ttft29): one request in ten streams, green's first tokens all come
// late, and green's unstreamed answers take 30 s, so hundreds of them are running. Counted as ttft_p95's outcomes
// unknown, those (which have no first token) held the breach off for the whole 60 s stage; counted as what they are,
// not streams, the rule breaches 7 s in. The engine on the fake clock, the arms scripted (known values).
import { expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { arrivalsEvery } from './fake-deps.js';
import type { ArmClient, EngineDeps } from '../../src/engine/deps.js';
import { RolloutEngine } from '../../src/engine/rollout.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import type { ArmName } from '../../src/plan/plan.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { planFromYaml } from '../helpers/plans.js';

const PLAN = `
name: ttft
upstream: { simulate: { models: {} } }
blue: { model: b }
green: { model: g }
traffic: { rate: 40 }
stages:
  - { duration: 60s, green_weight: 0.5 }
analysis:
  interval: 1s
  min_requests: 10
  thresholds: { ttft_p95: 1s }
`;

/** An arm whose streams answer after `ttftMs` and 100 ms more, and whose other requests after `plainMs`. */
function arm(name: ArmName, clock: FakeClock, ttftMs: number, plainMs: number): ArmClient {
  return {
    send: (request) => {
      const latencyMs = request.stream ? ttftMs + 100 : plainMs;
      const result: UpstreamResult = {
        arm: name,
        model: name,
        ok: true,
        status: 200,
        content: 'a fine answer here',
        latencyMs,
        attempts: 1,
        stream: request.stream,
      };
      if (request.stream) result.ttftMs = ttftMs;
      return new Promise((resolve) => clock.setTimer(() => resolve(result), latencyMs));
    },
    listModels: async () => ({ ids: [], status: 200 }),
  };
}

it('rolls back a green whose first tokens come late within seconds, its many unstreamed requests in flight no ttft unknowns', async () => {
  const clock = new FakeClock();
  const events: RolloutEvent[] = [];
  let sent = 0;
  let turn = 0;
  const deps: EngineDeps = {
    plan: planFromYaml(PLAN),
    clock,
    clients: { blue: arm('blue', clock, 100, 200), green: arm('green', clock, 1_500, 30_000) },
    // One request in ten streams, on each arm alike (the split alternates in pairs).
    traffic: {
      next: () => ({ messages: [{ role: 'user', content: 'hi' }], params: {}, stream: Math.floor(sent++ / 2) % 10 === 0, maxTokens: 16, source: 'synthetic' }),
    },
    splitter: { choose: (weight) => (weight <= 0 ? 'blue' : turn++ % 2 ? 'green' : 'blue') },
    arrivals: arrivalsEvery(clock, 25),
    persistence: { appendEvent: (event) => events.push(event), writeState: () => {} },
    runHook: async () => ({ ok: true, message: 'ok' }),
    pid: 1,
  };
  const engine = new RolloutEngine(deps);
  const start = clock.now();
  const done = engine.run();
  // 2 green streams a second, each 1.6 s: at 10 answered (min_requests), a couple running. Every request in flight
  // counted, ~18 unstreamed ones a second since the start widened the interval past the stage's end.
  const breach = () => events.find((event) => event.type === 'breach');
  while (breach() === undefined && clock.now() - start < 10_000) await clock.advance(500);
  expect(breach()?.message).toContain('green ttft_p95');
  // Then the drain of green's unstreamed requests still running at the rollback (30 s each).
  let settled = false;
  void done.finally(() => (settled = true));
  for (let steps = 0; steps < 100 && !settled; steps++) await clock.advance(500);
  const outcome = await done;
  expect(outcome).toMatchObject({ phase: 'rolled_back', breach: { rule: 'ttft_p95' } });
  expect(outcome.breach?.message).toMatch(
    /^green ttft_p95: 100\.0% of \d+ streamed requests with a first token after 1\.00s, [1-9] more requests still running \(at least [\d.]+%, 99\.5% sure\) > 5\.0% allowed in stage 1$/,
  );
});
