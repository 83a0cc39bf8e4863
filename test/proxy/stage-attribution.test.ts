// A request counts in the figures (and the results feed) of the stage in force when it started, not of the
// stage in force when it ended: a request routed by one stage's weights must not be judged as the next stage's.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

const TOKEN = 'admin-token-for-tests';
const admin = (url: string, method: string, body?: unknown) =>
  fetch(url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

/** One chat request for the split model through the proxy at `baseUrl`. */
const send = (baseUrl: string) =>
  fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] }),
  });

/** A proxy with an admin API in front of an upstream that holds every request until the test answers it. */
async function heldProxy() {
  const held: ServerResponse[] = [];
  const scripted = await scriptedServer((_req, res) => held.push(res));
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), {
    env: { UPSTREAM_KEY, ADMIN_TOKEN: TOKEN },
  });
  return { held, running, url: running.proxy.adminUrl as string };
}

type Figures = { stage?: number; arms: Record<'blue' | 'green', { requests: number; successes: number }> };

describe('stage attribution', () => {
  it('counts a request that started in stage 1 and ended in stage 2 in stage 1, in the figures and the feed', async () => {
    const { held, running, url } = await heldProxy();
    expect((await admin(`${url}/admin/route`, 'PUT', { greenWeight: 0, mirror: 0, stage: 1 })).status).toBe(200);
    const answer = send(running.baseUrl);
    await until(() => held.length === 1, 'the request at the upstream');
    expect((await admin(`${url}/admin/route`, 'PUT', { greenWeight: 0, mirror: 0, stage: 2 })).status).toBe(200);
    held[0]?.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'hello'));
    expect((await answer).status).toBe(200);
    await until(() => running.proxy.metrics.snapshot().arms.blue.successes === 1, 'the answer recorded');

    const figures = (await (await admin(`${url}/admin/figures`, 'GET')).json()) as { stage: Figures; lifetime: Figures };
    expect(figures.stage.stage).toBe(2);
    expect(figures.stage.arms.blue.requests).toBe(0);
    expect(figures.lifetime.arms.blue.successes).toBe(1);
    const feed = (await (await admin(`${url}/admin/results?after=0`, 'GET')).json()) as { results: { stage?: number }[] };
    expect(feed.results.map((entry) => entry.stage)).toEqual([1]);
  });

  it('tags a green request that started in the last stage and ended after the rollback route with that stage, on green', async () => {
    const { held, running, url } = await heldProxy();
    // Stage 1 (0-based, as a rollout numbers them) routes everything to green.
    expect((await admin(`${url}/admin/route`, 'PUT', { greenWeight: 1, mirror: 0, ttlMs: 60_000, stage: 1 })).status).toBe(200);
    const routedByStage = send(running.baseUrl);
    await until(() => held.length === 1, 'the green request at the upstream');
    // The rollout's ending: blue, tagged one past its last stage (src/live/proxy-actuator.ts endingRoutes).
    expect((await admin(`${url}/admin/route`, 'PUT', { greenWeight: 0, mirror: 0, stage: 2 })).status).toBe(200);
    const afterRollback = send(running.baseUrl);
    await until(() => held.length === 2, 'the blue request at the upstream');
    held[0]?.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('green-model', 'late green answer'));
    held[1]?.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'blue answer'));
    expect((await routedByStage).headers.get('x-bluegreen-arm')).toBe('green');
    expect((await afterRollback).headers.get('x-bluegreen-arm')).toBe('blue');
    await until(
      () => running.proxy.metrics.snapshot().arms.blue.successes === 1 && running.proxy.metrics.snapshot().arms.green.successes === 1,
      'both recorded',
    );
    const feed = (await (await admin(`${url}/admin/results?after=0`, 'GET')).json()) as { results: { stage?: number; result: { arm: string } }[] };
    // The late green answer belongs to the stage whose weights routed it (the rollout records it there, src/live/
    // live-source.ts); the request routed after the rollback to the ending's stage, which the rollout never records.
    expect(feed.results.map((entry) => [entry.result.arm, entry.stage]).sort()).toEqual([
      ['blue', 2],
      ['green', 1],
    ]);
  });

  // GET /admin/results says the attempts under way per stage tag (mirror copies included; `green`: those on green,
  // the copies here), so a rollout ending a
  // stage can wait for those begun in it; `inFlightUpTo` counts only those begun up to a number the rollout read at
  // the stage's end (later ones, still at its weight, would never let a busy proxy's count reach 0).
  it('counts the attempts under way per stage tag, mirrors included, and up to a number when asked', async () => {
    const { held, running, url } = await heldProxy();
    const results = async (query = '') => (await (await admin(`${url}/admin/results?after=0${query}`, 'GET')).json()) as FeedAnswer;
    // Every request goes blue, and a copy of each goes green: two attempts a request.
    expect((await admin(`${url}/admin/route`, 'PUT', { greenWeight: 0, mirror: 1, ttlMs: 60_000, stage: 1 })).status).toBe(200);
    const first = send(running.baseUrl);
    await until(() => held.length === 2, 'the request and its mirror copy at the upstream');
    const atEnd = await results();
    // stallTimeoutMs: timeout.request (5 s) and idle (2 s); longestMs: timeout.request and max_stream_duration (30 min).
    expect(atEnd.inFlight).toEqual({
      started: 2,
      stages: [{ stage: 1, requests: 2, green: 1, greenStreamed: 0 }],
      // Each arm's sends in the stage (one, under way: green's the mirror copy), on the proxy's clock (its age is the machine's).
      blueSent: [{ stage: 1, sends: 1, exact: true, sentAtLeast: expect.any(Array), running: expect.any(Array) }],
      greenSent: [{ stage: 1, sends: 1, exact: true, sentAtLeast: expect.any(Array), running: expect.any(Array) }],
      sentTagged: true,
      stallTimeoutMs: 7000,
      longestMs: 5000 + 30 * 60_000,
    });

    // The next stage's requests: counted under their own tag, and not up to the number read above.
    expect((await admin(`${url}/admin/route`, 'PUT', { greenWeight: 0, mirror: 1, ttlMs: 60_000, stage: 2 })).status).toBe(200);
    const second = send(running.baseUrl);
    await until(() => held.length === 4, "the next stage's request and copy at the upstream");
    expect((await results()).inFlight?.stages).toEqual([
      { stage: 1, requests: 2, green: 1, greenStreamed: 0 },
      { stage: 2, requests: 2, green: 1, greenStreamed: 0 },
    ]);
    expect((await results(`&inFlightUpTo=${atEnd.inFlight?.started}`)).inFlight).toMatchObject({
      started: 4,
      stages: [{ stage: 1, requests: 2, green: 1, greenStreamed: 0 }],
    });

    // The first stage's attempts answer: gone from the count, in the page read with it.
    for (const res of held.slice(0, 2)) res.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'hello'));
    expect((await first).status).toBe(200);
    await until(() => running.proxy.metrics.inFlightByStage().stages.length === 1, "the first stage's attempts ended");
    const after = await results();
    expect(after.inFlight?.stages).toEqual([{ stage: 2, requests: 2, green: 1, greenStreamed: 0 }]);
    expect(after.results.map((entry) => [entry.stage, entry.kind])).toEqual(
      expect.arrayContaining([
        [1, 'routed'],
        [1, 'mirror'],
      ]),
    );
    expect((await results(`&inFlightUpTo=${atEnd.inFlight?.started}`)).inFlight?.stages).toEqual([]);
    // Each result says its attempt's number, comparable with `started`: the first stage's were begun up to 2.
    expect(after.results.map((entry) => entry.sent).sort()).toEqual([1, 2]);

    for (const res of held.slice(2)) res.writeHead(200, { 'content-type': 'application/json' }).end(openAiCompletion('blue-model', 'hello'));
    expect((await second).status).toBe(200);
    expect((await admin(`${url}/admin/results?after=0&inFlightUpTo=-1`, 'GET')).status).toBe(400);
    // An empty value is no number (it was read as 0: no attempt counted, and a stage's end stopped waiting at once).
    // Nor is 1e308, whole as it is: no sequence number comes near it. Nor what Number() reads but is not written in
    // decimal digits (hex, binary, an exponent, a sign, spaces: '0x10' read as after=16).
    for (const query of [
      'after=0&inFlightUpTo=',
      'after=',
      'after=0&inFlightUpTo=%20',
      'after=1e308',
      'after=0&inFlightUpTo=1e308',
      'after=0x10',
      'after=0b1',
      'after=1e3',
      'after=%2B5',
      'after=%205',
      'after=0&inFlightUpTo=0o7',
    ]) {
      const res = await admin(`${url}/admin/results?${query}`, 'GET');
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: expect.stringMatching(/^(after|inFlightUpTo) must be a whole number of 0 or more \(at most 9007199254740991\)$/),
      });
    }
  });
});
