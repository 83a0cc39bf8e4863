// A request is settled once, whichever way it ends: a settle that throws (a bug in a quality check or a rule) was
// taken for the request failing and settled again, telling green's latency watch twice that it ended and
// recording a made-up connection failure.
import { expect, it } from 'vitest';
import { Dispatcher } from '../../src/engine/dispatcher.js';
import { MetricsRecorder } from '../../src/metrics/index.js';
import type { UpstreamResult } from '../../src/upstream/types.js';

it("a settle that throws is not settled again: green's watch is told once, and no failure is made up", async () => {
  const metrics = new MetricsRecorder({ stages: [{ durationMs: 1000, greenWeight: 1 }], prices: { blue: undefined, green: undefined }, now: () => 0 });
  metrics.startStage(0);
  const answer: UpstreamResult = { arm: 'green', model: 'green', ok: true, content: 'hi', latencyMs: 1, attempts: 1, stream: false };
  const client = { send: () => Promise.resolve(answer), listModels: () => Promise.reject(new Error('unused')) };
  const ended: number[] = [];
  const failures: string[] = [];
  const dispatcher = new Dispatcher({
    clients: { blue: client, green: client },
    traffic: { next: () => ({ messages: [{ role: 'user', content: 'hi' }], params: {}, stream: false, maxTokens: 8, source: 'synthetic' }) },
    splitter: { choose: () => 'green' },
    metrics,
    maxInFlight: 10,
    checkQuality: () => {
      throw new Error('a bug in a quality check');
    },
    onGreenResult: () => undefined,
    onFailure: (_arm, result) => failures.push(result.errorMessage ?? ''),
    greenWatch: { started: () => 7, ended: (id) => ended.push(id) },
  });
  dispatcher.dispatch(0, 1);
  // The wait holds the request's settling (its rejection with the bug included) until it is over.
  expect(await dispatcher.settled(0, 60_000, () => ({ cancel: () => undefined }))).toBe(0);
  expect(ended).toEqual([7]);
  expect(failures).toEqual([]);
  expect(metrics.stage(0).arms.green).toMatchObject({ failures: 0, consecutiveFailures: 0 });
  expect(dispatcher.inFlightCount).toBe(0);
});
