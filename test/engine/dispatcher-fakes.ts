// The dispatcher tests' setup: a metrics recorder at its first stage, and a dispatcher sending the same small request
// to green (one client for both arms, or one each), its errors (recording a result threw) kept in `errors`.
import { Dispatcher, type DispatcherOptions } from '../../src/engine/dispatcher.js';
import type { ArmClient } from '../../src/engine/deps.js';
import { MetricsRecorder } from '../../src/metrics/index.js';
import type { ArmName } from '../../src/plan/plan.js';

export function greenDispatcher(client: ArmClient | Record<ArmName, ArmClient>, options: Partial<DispatcherOptions> & { stages?: number } = {}) {
  const { stages = 1, ...overrides } = options;
  const metrics = new MetricsRecorder({
    stages: Array.from({ length: stages }, () => ({ durationMs: 1000, greenWeight: 0.5 })),
    prices: { blue: undefined, green: undefined },
    now: () => 0,
  });
  metrics.startStage(0);
  const errors: unknown[] = [];
  const dispatcher = new Dispatcher({
    clients: 'send' in client ? { blue: client, green: client } : client,
    traffic: { next: () => ({ messages: [{ role: 'user', content: 'hi' }], params: {}, stream: false, maxTokens: 8, source: 'synthetic' }) },
    splitter: { choose: () => 'green' },
    metrics,
    maxInFlight: 10,
    checkQuality: () => ({ ok: true }),
    onGreenResult: () => undefined,
    onError: (error) => errors.push(error),
    ...overrides,
  });
  return { metrics, dispatcher, errors };
}
