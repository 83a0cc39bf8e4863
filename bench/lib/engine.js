// Assembles the real rollout engine the way `bluegreen rollout` does (src/cli/run-rollout.ts), minus the CLI:
// real upstream clients (undici), the real traffic mix, splitter, arrival scheduler, metrics and state store.
import { systemClock } from '../../dist/core/clock.js';
import { openEndpoints } from '../../dist/cli/endpoints.js';
import { RolloutEngine } from '../../dist/engine/rollout.js';
import { createRandom } from '../../dist/core/random.js';
import { createSplitter } from '../../dist/split/index.js';
import { StateStore } from '../../dist/state/index.js';
import { createArrivalScheduler, createTrafficMix } from '../../dist/traffic/index.js';
import { createUpstreamClient } from '../../dist/upstream/index.js';
import { BENCH_KEY } from './plan.js';

/**
 * Real upstream clients for both arms (and the simulator, when the plan asks for one).
 * @param {object} [options] `now` drives the simulator's clock (its `changes[].at` count from its first call)
 */
export async function openClients(plan, options = {}) {
  const endpoints = await openEndpoints(plan, options.now ? { now: options.now } : {});
  const make = (arm) => {
    const { upstream, model } = endpoints.arms[arm];
    return createUpstreamClient({ arm, model, upstream, apiKey: upstream.apiKeyEnv ? BENCH_KEY : undefined, maxConnections: plan.traffic.max_in_flight });
  };
  const clients = { blue: make('blue'), green: make('green') };
  return {
    clients,
    endpoints,
    close: async () => {
      await Promise.all([clients.blue.close(), clients.green.close()]);
      await endpoints.close();
    },
  };
}

/**
 * One rollout on the real engine.
 * @param {object} o
 * @param {import('../../dist/plan/plan.js').Plan} o.plan
 * @param {Record<'blue'|'green', any>} o.clients
 * @param {number} [o.seed]
 * @param {import('../../dist/core/clock.js').Clock} [o.clock]
 * @param {string} [o.stateDir] write state.json / events.jsonl there, as the CLI does
 * @param {(scheduledAt: number) => void} [o.onArrival] called by the scheduler before the engine's own handler
 */
export async function createBenchEngine(o) {
  const clock = o.clock ?? systemClock;
  const seed = o.seed ?? 42;
  const random = createRandom(seed);
  const traffic = createTrafficMix(o.plan.traffic, random);
  await traffic.ready();
  const store = o.stateDir ? new StateStore(o.stateDir) : undefined;
  const events = [];
  let scheduler;
  const engine = new RolloutEngine({
    plan: o.plan,
    clients: o.clients,
    traffic,
    splitter: createSplitter(seed, random),
    clock,
    arrivals: (onArrival) => {
      const hook = o.onArrival;
      scheduler = createArrivalScheduler({
        rate: o.plan.traffic.rate,
        clock,
        onArrival: hook
          ? (scheduledAt) => {
              hook(scheduledAt);
              onArrival();
            }
          : () => onArrival(),
      });
      return scheduler;
    },
    persistence: {
      appendEvent: (event) => {
        events.push(event);
        store?.appendEvent(event);
      },
      writeState: (snapshot) => store?.writeState(snapshot),
    },
    runHook: async () => ({ ok: true, message: 'no hook in benchmarks' }),
    pid: process.pid,
  });
  return { engine, events, traffic, scheduler: () => scheduler };
}

/** Totals over all stages and both arms of a snapshot. */
export function totals(snapshot) {
  const t = { requests: 0, successes: 0, failures: 0, dropped: 0, inFlight: 0, retries: 0 };
  for (const stage of snapshot.stages) {
    for (const arm of [stage.arms.blue, stage.arms.green]) {
      t.requests += arm.requests;
      t.successes += arm.successes;
      t.failures += arm.failures;
      t.dropped += arm.dropped;
      t.inFlight += arm.inFlight;
      t.retries += arm.retries;
    }
  }
  return t;
}
