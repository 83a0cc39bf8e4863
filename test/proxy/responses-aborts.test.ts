// A client that leaves while a Responses stream's model thinks (after response.created and response.in_progress,
// before any output) reaches the rollout as a client_abort on either arm alike (review11): green's opening events
// are held while blue can answer for it, blue's pass at once, and only green's used to count, so impatient users
// on both arms charged green alone.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { UpstreamResult } from '../../src/upstream/types.js';
import { runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY } from './helpers.js';
import { responseObject, responsesEvent } from './responses-fixtures.js';
import { until } from '../helpers/until.js';

const opening = (model: string) => {
  const response = responseObject('resp_1', model, 'in_progress', []);
  return responsesEvent({ type: 'response.created', response }) + responsesEvent({ type: 'response.in_progress', response });
};

describe('a client leaving a Responses stream before its first output', () => {
  it('counts as a client_abort on blue as on green', async () => {
    const held: ServerResponse[] = [];
    const scripted = await scriptedServer((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(opening((JSON.parse(body) as { model: string }).model));
      held.push(res);
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const abandoned: UpstreamResult[] = [];
    running.proxy.metrics.onAbandoned((result) => abandoned.push(result));
    for (const [weight, arm] of [
      [0, 'blue'],
      [1, 'green'],
    ] as const) {
      setRoute(running.proxy, weight);
      const leaving = new AbortController();
      const sent = held.length;
      const request = fetch(`${running.baseUrl}/responses`, {
        method: 'POST',
        body: '{"model":"blue-model","input":"think hard","stream":true}',
        signal: leaving.signal,
      }).then(
        async (res) => {
          // Blue's opening events reach the client; green's are held while blue could still answer.
          if (arm === 'blue') await (res.body as ReadableStream<Uint8Array>).getReader().read();
        },
        () => undefined,
      );
      await until(() => held.length > sent, `the ${arm} request at the upstream`);
      if (arm === 'blue') await request;
      leaving.abort();
      await until(() => abandoned.length === (arm === 'blue' ? 1 : 2), `the ${arm} abort reported`);
      expect(abandoned.at(-1)).toMatchObject({ arm, ok: false, failure: 'client_abort' });
    }
  });
});
