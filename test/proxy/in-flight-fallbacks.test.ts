// The attempts under way per stage tag say how many are blue answering for green (`fallbacks`): a rollout's ending
// waits for those, so its report counts a fallback for each of green's failures that fell back (test/live/drain-fallbacks.test.ts).
import type { ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import { until } from '../helpers/until.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute } from './helpers.js';

it("counts blue's answers to green's fallbacks apart among the attempts under way", async () => {
  const held: ServerResponse[] = [];
  // Green fails at once (a 500, which falls back); blue holds its answer until the test lets it go.
  const scripted = await scriptedServer((_req, res, body) => {
    if (body.includes('green-model')) {
      res.writeHead(500, { 'content-type': 'application/json' });
      return res.end('{"error":{"message":"boom","type":"server_error"}}');
    }
    held.push(res);
  });
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ fallback: true }' }));
  running.proxy.metrics.startStage(0);
  setRoute(running.proxy, 1);
  const answer = fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"model":"blue-model","messages":[]}' });
  await until(() => held.length === 1, "blue's answer for green under way");
  expect(running.proxy.metrics.inFlightByStage().stages).toEqual([{ stage: 0, requests: 1, green: 0, greenStreamed: 0, fallbacks: 1 }]);
  (held[0] as ServerResponse).writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'hi'));
  expect((await answer).status).toBe(200);
  await until(() => running.proxy.metrics.inFlightByStage().stages.length === 0, 'the fallback answered');
});

it('says no fallbacks among attempts of the split itself', async () => {
  const held: ServerResponse[] = [];
  const scripted = await scriptedServer((_req, res) => held.push(res));
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ fallback: true }' }));
  running.proxy.metrics.startStage(0);
  setRoute(running.proxy, 0);
  const answer = fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"model":"blue-model","messages":[]}' });
  await until(() => held.length === 1, "blue's attempt under way");
  expect(running.proxy.metrics.inFlightByStage().stages).toEqual([{ stage: 0, requests: 1, green: 0, greenStreamed: 0 }]);
  (held[0] as ServerResponse).writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'hi'));
  expect((await answer).status).toBe(200);
});
