// The streamed requests in flight (ttft_p95's unknowns) are counted down by what the dispatcher counted up at
// dispatch, not by the `stream` a client's result says: a client answering with another value drifted the count
// (a streamed request answered as not streamed stayed "in flight"; one not streamed answered as streamed took
// another's place).
import type { SignalWatch } from '../../src/upstream/signal-watch.js';
import { expect, it } from 'vitest';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { greenDispatcher } from './dispatcher-fakes.js';

const noTimer = () => ({ cancel: () => undefined });

/** A scripted arm: answers each request, in turn or all failed once the signal aborts, with the opposite `stream`. */
function contrary() {
  const waiting: (() => void)[] = [];
  const client = {
    send: (request: { stream: boolean }, cancel?: SignalWatch) =>
      new Promise<UpstreamResult>((resolve) => {
        const base = { arm: 'green' as const, model: 'green', latencyMs: 1, attempts: 1, stream: !request.stream };
        waiting.push(() => resolve({ ...base, ok: true, content: 'hi' }));
        cancel?.signal.addEventListener('abort', () => resolve({ ...base, ok: false, content: '', failure: 'connection', errorMessage: 'aborted' }), {
          once: true,
        });
      }),
    listModels: () => Promise.reject(new Error('unused')),
  };
  return { client, answerNext: () => waiting.shift()?.() };
}

/** Requests streamed as `pattern` says, in turn. */
function streaming(pattern: boolean[]) {
  let sent = 0;
  return {
    next: () => ({
      messages: [{ role: 'user' as const, content: 'hi' }],
      params: {},
      stream: pattern[sent++ % pattern.length]!,
      maxTokens: 8,
      source: 'synthetic' as const,
    }),
  };
}

it("counts a streamed request out by its dispatch, not by its result's stream", async () => {
  const { client, answerNext } = contrary();
  let recorded = (): void => undefined;
  const { metrics, dispatcher, errors } = greenDispatcher(client, { traffic: streaming([true, false]), onGreenResult: () => recorded() });
  const answer = () => new Promise<void>((resolve) => ((recorded = resolve), answerNext()));
  for (let i = 0; i < 4; i++) dispatcher.dispatch(0, 1);
  expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 4, streamedInFlight: 2 });
  // The first (streamed) answers as not streamed: one stream is left in flight, not two.
  await answer();
  expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 3, streamedInFlight: 1 });
  // The second (not streamed) answers as streamed: the other stream is still in flight.
  await answer();
  expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 2, streamedInFlight: 1 });
  await answer();
  expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 1, streamedInFlight: 0 });
  await answer();
  expect(errors).toEqual([]);
});

it('counts a cancelled request out by its dispatch too', async () => {
  const { client } = contrary();
  // Three sent, the last two streamed; cancelled, each says the opposite.
  const { metrics, dispatcher } = greenDispatcher(client, { traffic: streaming([false, true, true]) });
  for (let i = 0; i < 3; i++) dispatcher.dispatch(0, 1);
  expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 3, streamedInFlight: 2 });
  const drained = dispatcher.drain(60_000, noTimer);
  dispatcher.cancelAll();
  await drained;
  const green = metrics.stage(0).arms.green;
  expect([green.requests, green.inFlight]).toEqual([0, 0]);
  // Three more, two streamed: two streams in flight, none left over from the cancelled ones.
  for (let i = 0; i < 3; i++) dispatcher.dispatch(0, 1);
  expect(metrics.stage(0).arms.green).toMatchObject({ inFlight: 3, streamedInFlight: 2 });
});
