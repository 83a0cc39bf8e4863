// Requests the ending cancels (a second Ctrl-C) are not reported as the upstream's first connection failure, nor
// counted as failures in the figures.
import type { SignalWatch } from '../../src/upstream/signal-watch.js';
import { describe, expect, it } from 'vitest';
import type { ArmName } from '../../src/plan/plan.js';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { greenDispatcher } from './dispatcher-fakes.js';

/** A client whose requests never answer until their signal aborts. */
const hanging = {
  send: (_request: unknown, cancel?: SignalWatch) =>
    new Promise<UpstreamResult>((_resolve, reject) => cancel?.signal.addEventListener('abort', () => reject(cancel.reason), { once: true })),
  listModels: () => Promise.reject(new Error('unused')),
};

describe('Dispatcher.cancelAll', () => {
  it('settles every request without a failure warning or a failure in the figures', async () => {
    const warned: [ArmName, string][] = [];
    const { metrics, dispatcher, errors } = greenDispatcher(hanging, { onFailure: (arm, result) => warned.push([arm, result.errorMessage ?? '']) });
    dispatcher.dispatch(0, 0.5);
    dispatcher.dispatch(0, 0.5);
    expect(dispatcher.inFlightCount).toBe(2);
    const drained = dispatcher.drain(60_000, () => ({ cancel: () => undefined }));
    dispatcher.cancelAll();
    await drained;
    expect(dispatcher.inFlightCount).toBe(0);
    expect(warned).toEqual([]);
    expect(errors).toEqual([]);
    expect(metrics.stage(0).arms.green).toMatchObject({ requests: 0, failures: 0, inFlight: 0, consecutiveFailures: 0 });
  });
});

describe("Dispatcher: green's watch (the p95 ratio's sent-before bound on green, the ok side)", () => {
  it('is told that a green request the ending cancelled left the sample without a result', async () => {
    const told: string[] = [];
    const { dispatcher } = greenDispatcher(hanging, {
      splitter: { choose: () => 'green' },
      greenWatch: { started: (stage) => (told.push(`started ${stage}`), 4), ended: (slot, cancelled) => told.push(`ended ${slot} ${cancelled}`) },
    });
    dispatcher.dispatch(0, 0.5);
    const drained = dispatcher.drain(60_000, () => ({ cancel: () => undefined }));
    dispatcher.cancelAll();
    await drained;
    expect(told).toEqual(['started 0', 'ended 4 true']);
  });
});

describe("Dispatcher: blue's watch (the p95 ratio's sent-before bound)", () => {
  it('is told of each blue request, and that one the ending cancelled left the sample without a result', async () => {
    const told: string[] = [];
    const { dispatcher } = greenDispatcher(hanging, {
      splitter: { choose: () => 'blue' },
      blueWatch: { started: (stage) => (told.push(`started ${stage}`), 3), ended: (slot, cancelled) => told.push(`ended ${slot} ${cancelled}`) },
    });
    dispatcher.dispatch(0, 0.5);
    expect(told).toEqual(['started 0']);
    const drained = dispatcher.drain(60_000, () => ({ cancel: () => undefined }));
    dispatcher.cancelAll();
    await drained;
    expect(told).toEqual(['started 0', 'ended 3 true']);
  });
});

describe('Dispatcher: streamed requests in flight', () => {
  it('counts the streamed ones apart (ttft_p95 judges only those as unknown), and none once cancelled', async () => {
    let sent = 0;
    // One request in ten streams.
    const traffic = {
      next: () => ({ messages: [{ role: 'user' as const, content: 'hi' }], params: {}, stream: sent++ % 10 === 0, maxTokens: 8, source: 'synthetic' as const }),
    };
    const { metrics, dispatcher } = greenDispatcher(hanging, { traffic });
    for (let i = 0; i < 10; i++) dispatcher.dispatch(0, 0.5);
    expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 10, streamedInFlight: 1 });
    const drained = dispatcher.drain(60_000, () => ({ cancel: () => undefined }));
    dispatcher.cancelAll();
    await drained;
    const green = metrics.stage(0).arms.green;
    expect([green.inFlight, green.streamedInFlight]).toEqual([0, undefined]);
    // The cancelled stream is no longer counted: ten more, one streamed, are one stream in flight, not two.
    for (let i = 0; i < 10; i++) dispatcher.dispatch(0, 0.5);
    expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 10, streamedInFlight: 1 });
  });
});
