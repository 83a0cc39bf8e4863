// Engine seams for tests on the fake clock: the same small request every time, arriving every `ms` of fake time, and
// arms whose answers (or hangs) are scripted by when the request was sent.
import type { SignalWatch } from '../../src/upstream/signal-watch.js';
import { setMaxListeners } from 'node:events';
import type { ArmClient, EngineDeps } from '../../src/engine/deps.js';
import type { RolloutEvent } from '../../src/engine/types.js';
import type { Plan } from '../../src/plan/plan.js';
import type { ArmName } from '../../src/plan/plan.js';
import type { ChatRequest, UpstreamResult } from '../../src/upstream/types.js';
import type { FakeClock } from '../helpers/fake-clock.js';

export const SAME_REQUEST: EngineDeps['traffic'] = {
  next: () => ({ messages: [{ role: 'user', content: 'hi' }], params: {}, stream: false, maxTokens: 16, source: 'synthetic' }),
};

/** An arm of a live plan that generates no traffic: the proxies hold the keys, and the engine sends nothing upstream. */
const NO_UPSTREAM: ArmClient = {
  send: () => Promise.reject(new Error('a live rollout without generated traffic sends nothing upstream')),
  listModels: () => Promise.resolve({ ids: [], status: 200 }),
};

/**
 * The seams of an engine that sends nothing upstream (NO_UPSTREAM), its journal in `journal`, every hook succeeding,
 * and no sources or actuators; `overrides` replace any part.
 */
export function quietEngineDeps(plan: Plan, clock: FakeClock, journal: RolloutEvent[], overrides: Partial<EngineDeps> = {}): EngineDeps {
  return {
    plan,
    clock,
    clients: { blue: NO_UPSTREAM, green: NO_UPSTREAM },
    traffic: SAME_REQUEST,
    splitter: { choose: () => 'blue' },
    arrivals: arrivalsEvery(clock, 100),
    persistence: { appendEvent: (event) => journal.push(event), writeState: () => {} },
    runHook: () => Promise.resolve({ ok: true, message: 'exited 0' }),
    pid: 1,
    sources: [],
    actuators: [],
    ...overrides,
  };
}

/** One arrival every `ms` of the fake clock while started; none after stop. */
export function arrivalsEvery(clock: FakeClock, ms: number): EngineDeps['arrivals'] {
  return (onArrival) => {
    let timer: { cancel(): void } | undefined;
    let running = false;
    const tick = () => {
      if (!running) return;
      onArrival();
      timer = clock.setTimer(tick, ms);
    };
    return {
      start: () => {
        running = true;
        timer = clock.setTimer(tick, ms);
      },
      stop: () => {
        running = false;
        timer?.cancel();
      },
    };
  };
}

/** How an arm answers a request sent at `sentAt` (ms since the rollout started): after some ms, or never. */
export type Answer = { afterMs: number; ok: boolean } | 'hang';

/** An arm whose answers come on the fake clock; a hanging request ends only when its signal aborts. */
export function scriptedArm(arm: ArmName, clock: FakeClock, start: number, answer: (sentAt: number) => Answer): ArmClient {
  return {
    send: (request: ChatRequest, cancel?: SignalWatch) =>
      new Promise<UpstreamResult>((resolve, reject) => {
        const signal = cancel?.signal;
        const how = answer(clock.now() - start);
        const answered = (how: { afterMs: number; ok: boolean }): UpstreamResult => ({
          arm,
          model: arm,
          ok: how.ok,
          failure: how.ok ? undefined : 'server_error',
          status: how.ok ? 200 : 500,
          content: 'a fine answer here',
          latencyMs: how.afterMs,
          attempts: 1,
          stream: request.stream,
        });
        const onAbort = () => {
          timer?.cancel();
          reject(signal?.reason as Error);
        };
        // As the real client (src/upstream/client.ts): every request in flight listens to the dispatcher's one
        // signal, so its listener limit is lifted, and each request's listener goes when it is answered.
        const timer =
          how === 'hang'
            ? undefined
            : clock.setTimer(() => {
                signal?.removeEventListener('abort', onAbort);
                resolve(answered(how));
              }, how.afterMs);
        if (signal) setMaxListeners(0, signal);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    listModels: async () => ({ ids: [], status: 200 }),
  };
}
