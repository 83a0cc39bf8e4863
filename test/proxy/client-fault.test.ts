// A client's own bad request (a plain client-error 4xx that blue gives too) is neither arm's failure: a client whose
// sticky id lands on green must not roll a healthy green back by sending it malformed requests, and a green that
// refuses what blue accepts is still charged (docs/proxy.md, "Fallback rules").
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { FeedAnswer, FeedEntry } from '../../src/proxy/results-feed.js';
import type { ProxyFigures } from '../../src/proxy/metrics.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

const TOKEN = 'admin-token-for-tests';

/** What each arm's upstream answers, by the prompt: 'bad' is refused by `refusing` arms, anything else answered. */
interface Script {
  /** The arms refusing a 'bad' prompt, and with which status. */
  refuses: Partial<Record<'blue-model' | 'green-model', number>>;
  /** Holds blue's answers until the test releases them. */
  holdBlue?: boolean;
}

async function proxyWith(script: Script, fallback = true) {
  const heldBlue: (() => void)[] = [];
  const scripted = await scriptedServer((_req, res: ServerResponse, body) => {
    const request = JSON.parse(body) as { model: 'blue-model' | 'green-model'; messages: { content: string }[] };
    const status = request.messages[0]?.content === 'bad' ? script.refuses[request.model] : undefined;
    const reply = () => {
      if (status !== undefined) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Invalid value for messages', type: 'invalid_request_error' } }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(openAiCompletion(request.model, 'a fine answer'));
      }
    };
    if (script.holdBlue && request.model === 'blue-model') heldBlue.push(reply);
    else reply();
  });
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: `{ fallback: ${fallback}, admin: { token_env: ADMIN_TOKEN } }` }), {
    env: { UPSTREAM_KEY, ADMIN_TOKEN: TOKEN },
  });
  const adminUrl = running.proxy.adminUrl as string;
  const admin = async (path: string, method = 'GET', body?: unknown): Promise<unknown> => {
    const response = await fetch(`${adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    expect(response.status).toBe(200);
    return response.json();
  };
  const route = (greenWeight: number, mirror = 0) => admin('/admin/route', 'PUT', { greenWeight, mirror, ttlMs: 600_000, stage: 0 });
  const send = (content: string, user = 'user-1') =>
    fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', user, messages: [{ role: 'user', content }] }),
    });
  const feed = async (): Promise<FeedEntry[]> => ((await admin('/admin/results?after=0')) as FeedAnswer).results;
  const figures = async (): Promise<ProxyFigures> => ((await admin('/admin/figures')) as { stage: ProxyFigures }).stage;
  return { running, route, send, feed, figures, heldBlue, admin };
}

/** A request for a 'bad' answer, `user` its sticky id if any, which the test's `controller` aborts. */
const aborted = (proxy: Awaited<ReturnType<typeof proxyWith>>, user?: string) => {
  const controller = new AbortController();
  const answer = fetch(`${proxy.running.baseUrl}/chat/completions`, {
    method: 'POST',
    signal: controller.signal,
    body: JSON.stringify({ model: 'blue-model', ...(user !== undefined && { user }), messages: [{ role: 'user', content: 'bad' }] }),
  }).catch(() => 'gone');
  return { controller, answer };
};

/** Each entry as [kind, arm, ok, failure, status, clientFault]. */
const entries = (feed: FeedEntry[]) =>
  feed.map(({ kind, result }) => [kind, result.arm, result.ok, result.failure, result.status, result.clientFault === true]);

describe('a client’s own bad requests', () => {
  it('on green, refused by blue alike: the client gets the 400, and neither arm counts a request or a failure', async () => {
    const proxy = await proxyWith({ refuses: { 'blue-model': 400, 'green-model': 400 } });
    await proxy.route(1);
    for (let i = 0; i < 5; i++) {
      const response = await proxy.send('bad');
      expect(response.status).toBe(400);
      expect(response.headers.get('x-bluegreen-fallback')).toBe('true');
    }
    expect((await proxy.send('hello')).status).toBe(200);
    const fed = await proxy.feed();
    expect(entries(fed).slice(0, 2)).toEqual([
      ['routed', 'green', false, 'client_error', 400, true],
      ['fallback', 'blue', false, 'client_error', 400, true],
    ]);
    const { arms } = await proxy.figures();
    expect(arms.green).toMatchObject({ requests: 1, successes: 1, failures: 0, clientErrors: 5 });
    expect(arms.blue).toMatchObject({ requests: 0, failures: 0, clientErrors: 5 });
    expect(arms.green.failuresByClass).toEqual({});
    // Among green's sends, as in green's latencies (a rollout's sent-before bound counts them as its sample): all 6.
    const page = (await proxy.admin('/admin/results?after=0')) as FeedAnswer;
    expect(page.inFlight?.greenSent?.[0]).toMatchObject({ stage: 0, sends: 6, exact: true });
    expect(arms.green.latency?.count).toBe(6);
    // Operators still see them in /metrics: requests, and client_error failures by arm.
    const scraped = await (await fetch(`${proxy.running.proxy.url}/metrics`)).text();
    expect(scraped).toMatch(/^bluegreen_proxy_failures_total\{arm="green",class="client_error",path="chat"\} 5$/m);
    expect(scraped).toMatch(/^bluegreen_proxy_failures_total\{arm="blue",class="client_error",path="chat"\} 5$/m);
    expect(scraped).toMatch(/^bluegreen_proxy_requests_total\{arm="green",path="chat"\} 6$/m);
  });

  it('on green, accepted by blue: green refusing what blue answers is green’s failure', async () => {
    const proxy = await proxyWith({ refuses: { 'green-model': 400 } });
    await proxy.route(1);
    const response = await proxy.send('bad');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-bluegreen-fallback')).toBe('true');
    expect(entries(await proxy.feed())).toEqual([
      ['routed', 'green', false, 'client_error', 400, false],
      ['fallback', 'blue', true, undefined, 200, false],
    ]);
    const { arms } = await proxy.figures();
    expect(arms.green).toMatchObject({ requests: 1, failures: 1, failuresByClass: { client_error: 1 } });
    expect(arms.green.clientErrors).toBeUndefined();
  });

  it('keeps green’s attempt under way, and its result unrecorded, until blue has answered', async () => {
    const proxy = await proxyWith({ refuses: { 'blue-model': 400, 'green-model': 400 }, holdBlue: true });
    await proxy.route(1);
    const answer = proxy.send('bad');
    await until(() => proxy.heldBlue.length === 1, "blue asked for green's refusal");
    const stages = proxy.running.proxy.metrics.inFlightByStage().stages;
    expect(stages).toEqual([{ stage: 0, requests: 2, green: 1, greenStreamed: 0, fallbacks: 1 }]);
    expect(await proxy.feed()).toEqual([]);
    proxy.heldBlue[0]?.();
    expect((await answer).status).toBe(400);
    await until(async () => (await proxy.feed()).length === 2, 'both results');
    expect(proxy.running.proxy.metrics.inFlightByStage().stages).toEqual([]);
  });

  // A client leaving at a moment of its choosing must not decide whose a refusal was: blue's request runs on to its
  // status (ForwardRequest.holdFor), which decides it as with the client there; neither a client abort nor a
  // failure a client could time its exits to charge green with, sticky id or none.
  it('a client gone while blue is asked: blue’s status still says whose green’s refusal was', async () => {
    for (const [refuses, clientFault] of [
      [{ 'blue-model': 400, 'green-model': 400 }, true],
      [{ 'green-model': 400 }, false],
    ] as const) {
      const proxy = await proxyWith({ refuses, holdBlue: true });
      await proxy.route(1);
      const { controller, answer } = aborted(proxy);
      await until(() => proxy.heldBlue.length === 1, "blue asked for green's refusal");
      controller.abort();
      expect(await answer).toBe('gone');
      await proxy.figures();
      // Blue's request held for its status: both attempts still under way (a stage's end waits for them).
      expect(proxy.running.proxy.metrics.inFlightByStage().stages).toEqual([{ stage: 0, requests: 2, green: 1, greenStreamed: 0, fallbacks: 1 }]);
      proxy.heldBlue[0]?.();
      await until(async () => (await proxy.feed()).length === 1, "green's result");
      // Blue's answer for a client gone is not recorded; green's refusal is settled by it.
      expect(entries(await proxy.feed())).toEqual([['routed', 'green', false, 'client_error', 400, clientFault]]);
      await until(() => proxy.running.proxy.metrics.inFlightByStage().stages.length === 0, 'nothing under way');
      const { arms } = await proxy.figures();
      expect(arms.green).toMatchObject(
        clientFault ? { requests: 0, failures: 0, clientAborts: 0, clientErrors: 1 } : { requests: 1, failures: 1, clientAborts: 0 },
      );
    }
  });

  it('mirrored, a client gone before blue’s status: the copy’s refusal waits for it, not charged to green per exit', async () => {
    const proxy = await proxyWith({ refuses: { 'blue-model': 400, 'green-model': 400 }, holdBlue: true });
    await proxy.route(0, 1);
    for (let i = 0; i < 4; i++) {
      const { controller, answer } = aborted(proxy, 'same-user');
      await until(() => proxy.heldBlue.length === i + 1, 'blue asked');
      controller.abort();
      expect(await answer).toBe('gone');
      await proxy.figures();
      proxy.heldBlue[i]?.();
    }
    await until(async () => (await proxy.feed()).length === 8, 'every result');
    const fed = entries(await proxy.feed());
    expect(fed.filter(([kind]) => kind === 'mirror')).toEqual(Array(4).fill(['mirror', 'green', false, 'client_error', 400, true]));
    // Blue's own: its client's aborts (at most 3 of one sticky client count in the comparisons, src/analysis/aborts.ts).
    expect(fed.filter(([kind]) => kind === 'routed')).toEqual(Array(4).fill(['routed', 'blue', false, 'client_abort', undefined, false]));
    const { arms } = await proxy.figures();
    expect(arms.green).toMatchObject({ requests: 0, failures: 0, consecutiveFailures: 0, clientErrors: 4 });
  });

  it('a client gone before blue’s status while the proxy stops: blue is cut, not waited for, and green’s refusal is its own', async () => {
    const proxy = await proxyWith({ refuses: { 'blue-model': 400, 'green-model': 400 }, holdBlue: true });
    await proxy.route(1);
    const { controller, answer } = aborted(proxy);
    await until(() => proxy.heldBlue.length === 1, "blue asked for green's refusal");
    controller.abort();
    expect(await answer).toBe('gone');
    await proxy.figures();
    const results: string[] = [];
    proxy.running.proxy.metrics.onResult((result) => results.push(`${result.arm} ${result.failure} ${result.clientFault === true}`));
    // Blue's answer never comes: the stop ends the hold.
    await proxy.running.proxy.close();
    expect(results).toEqual(['green client_error false']);
  });

  it('on blue: a plain client error is not blue’s failure nor one of its sends; 401, 409 and 429 still are its failures', async () => {
    const proxy = await proxyWith({ refuses: { 'blue-model': 422 } });
    await proxy.route(0);
    expect((await proxy.send('bad')).status).toBe(422);
    expect((await proxy.send('hello')).status).toBe(200);
    const [refused] = entries(await proxy.feed());
    expect(refused).toEqual(['routed', 'blue', false, 'client_error', 422, true]);
    const { arms } = await proxy.figures();
    expect(arms.blue).toMatchObject({ requests: 1, failures: 0, clientErrors: 1 });
    // The blue sends the rollout's sent-before sample counts: both, as both are in blue's latency sample.
    const page = (await proxy.admin('/admin/results?after=0')) as FeedAnswer;
    expect(page.inFlight?.blueSent?.[0]).toMatchObject({ stage: 0, sends: 2, exact: true });
    expect(arms.blue.latency?.count).toBe(2);

    for (const status of [401, 409, 429]) {
      const other = await proxyWith({ refuses: { 'blue-model': status } });
      await other.route(0);
      await other.send('bad');
      const [entry] = await other.feed();
      expect(entry?.result.clientFault).toBeUndefined();
      expect((await other.figures()).arms.blue.failures).toBe(1);
    }
  });

  it('mirrored: green’s copy refused as blue refused the request is the client’s own; refused where blue answered, green’s failure', async () => {
    const both = await proxyWith({ refuses: { 'blue-model': 400, 'green-model': 400 } });
    await both.route(0, 1);
    expect((await both.send('bad')).status).toBe(400);
    await until(async () => (await both.feed()).length === 2, 'the copy recorded');
    expect(entries(await both.feed()).sort()).toEqual([
      ['mirror', 'green', false, 'client_error', 400, true],
      ['routed', 'blue', false, 'client_error', 400, true],
    ]);
    expect((await both.figures()).arms.green).toMatchObject({ requests: 0, failures: 0, clientErrors: 1 });
    const greenSends = async (proxy: typeof both) => ((await proxy.admin('/admin/results?after=0')) as FeedAnswer).inFlight?.greenSent?.[0]?.sends;
    // Either copy is one of green's sends, as it is in green's latencies.
    expect(await greenSends(both)).toBe(1);

    const greenOnly = await proxyWith({ refuses: { 'green-model': 400 } });
    await greenOnly.route(0, 1);
    expect((await greenOnly.send('bad')).status).toBe(200);
    await until(async () => (await greenOnly.feed()).length === 2, 'the copy recorded');
    const copy = (await greenOnly.feed()).find((entry) => entry.kind === 'mirror');
    expect(copy?.result).toMatchObject({ ok: false, failure: 'client_error', status: 400 });
    expect(copy?.result.clientFault).toBeUndefined();
    expect((await greenOnly.figures()).arms.green).toMatchObject({ requests: 1, failures: 1 });
    expect(await greenSends(greenOnly)).toBe(1);
  });

  it('with fallback: false neither arm’s 4xx is excused: both are counted, as the comparisons with blue cancel them', async () => {
    const proxy = await proxyWith({ refuses: { 'blue-model': 400, 'green-model': 400 } }, false);
    await proxy.route(1);
    expect((await proxy.send('bad')).status).toBe(400);
    await proxy.route(0);
    expect((await proxy.send('bad')).status).toBe(400);
    expect(entries(await proxy.feed())).toEqual([
      ['routed', 'green', false, 'client_error', 400, false],
      ['routed', 'blue', false, 'client_error', 400, false],
    ]);
    const { arms } = await proxy.figures();
    expect([arms.green.failures, arms.blue.failures]).toEqual([1, 1]);
  });
});

// Excused only where green could have been asked the same request: a continuation held by blue's stored state (the
// arms on two upstreams) cannot be, as green's held by its own cannot fall back, so both arms' are charged alike.
describe('the client’s own bad requests, pinned to one arm’s stored state', () => {
  it('a conversation held on blue refused: blue’s failure, as green’s continuation refused is green’s', async () => {
    const refusing = (model: string) =>
      scriptedServer((_req, res: ServerResponse, body) => {
        const request = JSON.parse(body) as { input: string };
        if (request.input === 'bad') {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'Invalid input', type: 'invalid_request_error' } }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        const output = [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'fine' }] }];
        res.end(
          JSON.stringify({
            id: `resp_${model}`,
            object: 'response',
            status: 'completed',
            model,
            output,
            usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 },
          }),
        );
      });
    const [blue, green] = await Promise.all([refusing('blue-model'), refusing('green-model')]);
    const plan = `
name: two-upstreams
upstream: { base_url: ${blue.url}, api: openai, api_key_env: UPSTREAM_KEY, timeout: { connect: 2s, request: 5s } }
blue:  { model: blue-model }
green: { model: green-model, upstream: { base_url: ${green.url} } }
traffic: { rate: 1 }
stages:
  - { duration: 1m, green_weight: 0.5 }
proxy: { fallback: true }
`;
    const running = await runProxy(plan, { env: { UPSTREAM_KEY } });
    const send = (body: Record<string, unknown>) =>
      fetch(`${running.baseUrl}/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'blue-model', ...body }),
      });
    const results: [string, boolean][] = [];
    running.proxy.metrics.onResult((result) => results.push([result.arm, result.clientFault === true]));
    setRoute(running.proxy, 0);
    // Green could have been asked this one: blue's refusal is the client's own.
    expect((await send({ input: 'bad' })).status).toBe(400);
    // Only blue's upstream holds the conversation: blue's refusal is blue's, as green's would be on a continuation of its own.
    const pinned = await send({ input: 'bad', conversation: 'conv_1' });
    expect([pinned.status, pinned.headers.get('x-bluegreen-arm')]).toEqual([400, 'blue']);
    expect(results).toEqual([
      ['blue', true],
      ['blue', false],
    ]);
    expect(running.proxy.metrics.snapshot().arms.blue).toMatchObject({ requests: 1, failures: 1, clientErrors: 1 });
  });
});
