// GET /admin/results says the attempts the proxy has under way per stage tag (mirror copies included), so a
// rollout ending a stage can wait for those begun in it; `inFlightUpTo` counts only those begun up to a number the
// rollout read at the stage's end (later ones, still at its weight, would never let a busy proxy's count reach 0).
import type { ServerResponse } from 'node:http';
import { expect, it } from 'vitest';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import { until } from '../helpers/until.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';

const TOKEN = 'admin-token-for-tests';
const admin = (url: string, method: string, body?: unknown) =>
  fetch(url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

it('counts the attempts under way per stage tag, mirrors included, and up to a number when asked', async () => {
  const held: ServerResponse[] = [];
  const scripted = await scriptedServer((_req, res) => held.push(res));
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), {
    env: { UPSTREAM_KEY, ADMIN_TOKEN: TOKEN },
  });
  const url = running.proxy.adminUrl as string;
  const results = async (query = '') => (await (await admin(`${url}/admin/results?after=0${query}`, 'GET')).json()) as FeedAnswer;
  const send = () =>
    fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
  // Every request goes blue, and a copy of each goes green: two attempts a request.
  expect((await admin(`${url}/admin/route`, 'PUT', { greenWeight: 0, mirror: 1, ttlMs: 60_000, stage: 1 })).status).toBe(200);
  const first = send();
  await until(() => held.length === 2, 'the request and its mirror copy at the upstream');
  const atEnd = await results();
  expect(atEnd.inFlight).toEqual({ started: 2, stages: [{ stage: 1, requests: 2 }], stallTimeoutMs: 7000 });

  // The next stage's requests: counted under their own tag, and not up to the number read above.
  expect((await admin(`${url}/admin/route`, 'PUT', { greenWeight: 0, mirror: 1, ttlMs: 60_000, stage: 2 })).status).toBe(200);
  const second = send();
  await until(() => held.length === 4, "the next stage's request and copy at the upstream");
  expect((await results()).inFlight?.stages).toEqual([
    { stage: 1, requests: 2 },
    { stage: 2, requests: 2 },
  ]);
  expect((await results(`&inFlightUpTo=${atEnd.inFlight?.started}`)).inFlight).toMatchObject({ started: 4, stages: [{ stage: 1, requests: 2 }] });

  // The first stage's attempts answer: gone from the count, in the page read with it.
  for (const res of held.slice(0, 2)) res.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'hello'));
  expect((await first).status).toBe(200);
  await until(() => running.proxy.metrics.inFlightByStage().stages.length === 1, "the first stage's attempts ended");
  const after = await results();
  expect(after.inFlight?.stages).toEqual([{ stage: 2, requests: 2 }]);
  expect(after.results.map((entry) => [entry.stage, entry.kind])).toEqual(
    expect.arrayContaining([
      [1, 'routed'],
      [1, 'mirror'],
    ]),
  );
  expect((await results(`&inFlightUpTo=${atEnd.inFlight?.started}`)).inFlight?.stages).toEqual([]);

  for (const res of held.slice(2)) res.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'hello'));
  expect((await second).status).toBe(200);
  expect((await admin(`${url}/admin/results?after=0&inFlightUpTo=-1`, 'GET')).status).toBe(400);
});
