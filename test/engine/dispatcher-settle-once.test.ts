// A request is settled once, whichever way it ends: a settle that throws (a bug in a quality check or a rule) was
// taken for the request failing and settled again, telling green's latency watch twice that it ended and
// recording a made-up connection failure. And the error is not swallowed: onError hears it (the engine ends the
// rollout on blue) before a stage's end waiting on the request goes on to judge figures that miss it.
import { expect, it } from 'vitest';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { greenDispatcher } from './dispatcher-fakes.js';

const answer: UpstreamResult = { arm: 'green', model: 'green', ok: true, content: 'hi', latencyMs: 1, attempts: 1, stream: false };
const answering = (result: UpstreamResult) => ({ send: () => Promise.resolve(result), listModels: () => Promise.reject(new Error('unused')) });
const noTimer = () => ({ cancel: () => undefined });

it("a settle that throws is not settled again: green's watch is told once, and no failure is made up", async () => {
  const ended: number[] = [];
  const failures: string[] = [];
  const { metrics, dispatcher, errors } = greenDispatcher(answering(answer), {
    checkQuality: () => {
      throw new Error('a bug in a quality check');
    },
    onFailure: (_arm, result) => failures.push(result.errorMessage ?? ''),
    greenWatch: { started: () => 7, ended: (id) => ended.push(id) },
  });
  dispatcher.dispatch(0, 1);
  // The wait holds the request's settling (its error included) until it is over.
  expect(await dispatcher.settled(0, 60_000, noTimer)).toBe(0);
  expect(ended).toEqual([7]);
  expect(failures).toEqual([]);
  expect(metrics.stage(0).arms.green).toMatchObject({ failures: 0, consecutiveFailures: 0 });
  expect(dispatcher.inFlightCount).toBe(0);
  expect(errors.map(String)).toEqual(["Error: recording a green request's result failed: a bug in a quality check"]);
});

it("a result the metrics cannot record is told to onError before a stage's end waiting on it goes on", async () => {
  // An answer naming no arm the figures have (a client's bug): the metrics recorder throws recording it.
  const { dispatcher, errors } = greenDispatcher(answering({ ...answer, arm: 'purple' as 'green' }));
  dispatcher.dispatch(0, 1);
  const heard = await dispatcher.settled(0, 60_000, noTimer).then(() => errors.length);
  expect(heard).toBe(1);
  expect(String(errors[0])).toMatch(/^Error: recording a green request's result failed: /);
});

it('an error nothing waits for is still told, not left an unhandled rejection', async () => {
  const { dispatcher, errors } = greenDispatcher(answering(answer), {
    onGreenResult: () => {
      throw new Error('a bug in a rule');
    },
  });
  dispatcher.dispatch(0, 1);
  await dispatcher.drain(60_000, noTimer);
  expect(errors.map(String)).toEqual(["Error: recording a green request's result failed: a bug in a rule"]);
});
