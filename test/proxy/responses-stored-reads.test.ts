// The Responses API's stored state through the proxy: reads and deletions by id go to the arm whose upstream holds
// the response, requests naming its items are held there, store: false answers are not remembered, conversations
// and token counts go to blue. The official openai SDK as the application; blue and green on two simulators (two
// upstream accounts, neither able to read the other's responses) or a scripted upstream.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { StoredResponses } from '../../src/proxy/stored-responses.js';
import { responseObject, textItem } from './responses-fixtures.js';
import { runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY, type Running } from './helpers.js';

const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'client-key', maxRetries: 0 });
const ARM = 'x-bluegreen-arm';

const PROFILE = '{ latency: { p50: 2ms, p95: 5ms }, ttft: 1ms, tokens_per_second: 5000, output_tokens: { min: 5, max: 20 } }';
/** Blue and green each on a simulator of their own: two accounts, as two upstreams or two keys are. */
const TWO_ACCOUNTS = `
name: two-accounts
upstream: { api: openai, simulate: { seed: 3, models: { gpt-4o: ${PROFILE} } }, timeout: { connect: 2s, request: 5s } }
blue:  { model: gpt-4o }
green: { model: gpt-4.1, upstream: { simulate: { seed: 4, models: { gpt-4.1: ${PROFILE} } } } }
traffic: { rate: 1 }
stages:
  - { duration: 1m, green_weight: 0.5 }
`;

type Created = { arm: string | null; response: OpenAI.Responses.Response };

async function create(openai: OpenAI, body: Partial<OpenAI.Responses.ResponseCreateParamsNonStreaming> = {}, sticky?: string): Promise<Created> {
  const headers = sticky === undefined ? {} : { 'x-bluegreen-sticky-key': sticky };
  const { data, response } = await openai.responses.create({ model: 'gpt-4o', input: 'hello there', ...body }, { headers }).withResponse();
  return { arm: response.headers.get(ARM), response: data };
}

/** One response answered by each arm (the split drawing on), and a sticky id the split puts on each. */
async function onEachArm(openai: OpenAI, body: Partial<OpenAI.Responses.ResponseCreateParamsNonStreaming> = {}) {
  const answers: Partial<Record<string, OpenAI.Responses.Response>> = {};
  const sticky: Partial<Record<string, string>> = {};
  for (let i = 0; i < 60 && (!answers.blue || !answers.green); i++) {
    const { arm, response } = await create(openai, body, `user-${i}`);
    answers[arm as string] ??= response;
    sticky[arm as string] ??= `user-${i}`;
  }
  return {
    blue: answers.blue as OpenAI.Responses.Response,
    green: answers.green as OpenAI.Responses.Response,
    sticky: sticky as Record<'blue' | 'green', string>,
  };
}

const armOf = async <T>(call: { withResponse(): Promise<{ response: Response; data: T }> }) => (await call.withResponse()).response.headers.get(ARM);
const failure = (error: unknown) => ({
  status: (error as InstanceType<typeof OpenAI.APIError>).status,
  arm: (error as InstanceType<typeof OpenAI.APIError>).headers?.get(ARM),
});

function passedThrough(running: Running): number {
  return running.proxy.metrics.snapshot().passedThrough;
}

describe('reading a stored response through the proxy', () => {
  it('retrieves, lists the input of, cancels and deletes a response on the arm that answered it, whatever the route says now', async () => {
    const running = await runProxy(TWO_ACCOUNTS, { random: createRandom(5) });
    setRoute(running.proxy, 0.5);
    const openai = client(running.baseUrl);
    const { blue, green } = await onEachArm(openai);
    const judged = running.proxy.metrics.snapshot().arms;
    // Rolled back: green gets no new requests, but its responses are still read from its upstream.
    setRoute(running.proxy, 0);
    for (const [arm, created] of [
      ['blue', blue],
      ['green', green],
    ] as const) {
      const read = await openai.responses.retrieve(created.id).withResponse();
      expect(read.response.headers.get(ARM)).toBe(arm);
      expect(read.data).toMatchObject({ id: created.id, status: 'completed', output_text: created.output_text });
      expect(await armOf(openai.responses.inputItems.list(created.id))).toBe(arm);
      expect((await openai.responses.inputItems.list(created.id)).data[0]).toMatchObject({ role: 'user' });
      // The simulator cancels background responses only: its 400 comes back as it was.
      expect(failure(await openai.responses.cancel(created.id).catch((e: unknown) => e))).toEqual({ status: 400, arm });
      expect(await openai.responses.delete(created.id)).toMatchObject({ id: created.id, deleted: true });
      // Deleted upstream: the proxy forgets the id (a read of it is asked of blue, as any unknown id).
      expect(failure(await openai.responses.retrieve(created.id).catch((e: unknown) => e))).toEqual({ status: 404, arm: 'blue' });
      // A DELETE that fails (nothing there now) forgets nothing else.
      expect(failure(await openai.responses.delete(created.id).catch((e: unknown) => e))).toEqual({ status: 404, arm: 'blue' });
    }
    // An id the proxy never passed back is asked of blue.
    expect(failure(await openai.responses.retrieve('resp_unknown').catch((e: unknown) => e))).toEqual({ status: 404, arm: 'blue' });
    // None of it is split or judged: passthrough only.
    const after = running.proxy.metrics.snapshot();
    expect(after.arms.blue.requests).toBe(judged.blue.requests);
    expect(after.arms.green.requests).toBe(judged.green.requests);
    expect(after.passedThrough).toBe(2 * 7 + 1);
  });

  it('does not remember a store: false answer (the upstream kept nothing of it): a read of its id is asked of blue', async () => {
    const running = await runProxy(TWO_ACCOUNTS, { random: createRandom(5) });
    setRoute(running.proxy, 1);
    const openai = client(running.baseUrl);
    const kept = await create(openai);
    const unkept = await create(openai, { store: false });
    expect([kept.arm, unkept.arm]).toEqual(['green', 'green']);
    expect(await armOf(openai.responses.retrieve(kept.response.id))).toBe('green');
    expect(failure(await openai.responses.retrieve(unkept.response.id).catch((e: unknown) => e))).toEqual({ status: 404, arm: 'blue' });
    // A continuation of it is split as any request is (here: all green), not held anywhere.
    expect(StoredResponses.keepsResponse({ store: false })).toBe(false);
    expect(StoredResponses.keepsResponse({ store: true })).toBe(true);
  });

  it("holds a store: false answer's items passed back on the arm that made them (encrypted reasoning: only its account reads it)", async () => {
    const running = await runProxy(TWO_ACCOUNTS, { random: createRandom(9) });
    setRoute(running.proxy, 0.5);
    const openai = client(running.baseUrl);
    const { green, sticky } = await onEachArm(openai, { store: false });
    const item = green.output[0] as OpenAI.Responses.ResponseOutputMessage;
    // Under a sticky id the split puts on blue: still green, no fallback (blue's account cannot read green's items).
    // The simulator keeps nothing of a store: false answer, so green refuses the id as OpenAI does: 400, from green.
    const passedBack = await create(openai, { store: false, input: [item, { role: 'user', content: 'and then?' }] }, sticky.blue).catch((e: unknown) => e);
    expect(failure(passedBack)).toEqual({ status: 400, arm: 'green' });
    expect(running.proxy.metrics.snapshot().fallbacks).toBe(0);
  });

  it('refuses other methods with 405 naming the ones it takes, and ids that are no id with 404', async () => {
    const running = await runProxy(TWO_ACCOUNTS);
    const put = await fetch(`${running.baseUrl}/responses/resp_1`, { method: 'PUT', headers: { authorization: 'Bearer x' } });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, DELETE');
    const cancel = await fetch(`${running.baseUrl}/responses/resp_1/cancel`, { headers: { authorization: 'Bearer x' } });
    expect(cancel.headers.get('allow')).toBe('POST');
    const walk = await fetch(`${running.baseUrl}/responses/resp_1%2F..%2F..%2Fmodels`, { headers: { authorization: 'Bearer x' } });
    expect(walk.status).toBe(404);
    expect(running.endpoints.simulators.map((one) => one.requestCount())).toEqual([0, 0]);
  });
});

describe('a request naming stored items', () => {
  it('is held on the arm that answered them while it has a share, whatever the split draws', async () => {
    const running = await runProxy(TWO_ACCOUNTS, { random: createRandom(9) });
    setRoute(running.proxy, 0.5);
    const openai = client(running.baseUrl);
    const { blue, green, sticky } = await onEachArm(openai);
    for (const [arm, created, other] of [
      ['green', green, sticky.blue],
      ['blue', blue, sticky.green],
    ] as const) {
      const item = created.output[0] as OpenAI.Responses.ResponseOutputMessage;
      // Its output passed back by id, under a sticky id the split puts on the other arm: still the arm holding it.
      const passedBack = await create(openai, { input: [item, { role: 'user', content: 'and then?' }] }, other);
      expect(passedBack.arm).toBe(arm);
      const referenced = await create(
        openai,
        {
          input: [
            { type: 'item_reference', id: item.id },
            { role: 'user', content: 'and?' },
          ],
        },
        other,
      );
      expect(referenced.arm).toBe(arm);
    }
    expect(running.proxy.metrics.snapshot().fallbacks).toBe(0);
    expect(running.proxy.metrics.snapshot().arms.green.failures).toBe(0);
    // Green rolled back: a request naming green's items goes to blue, whose account answers it 400 (docs/proxy.md).
    setRoute(running.proxy, 0);
    const item = green.output[0] as OpenAI.Responses.ResponseOutputMessage;
    expect(failure(await create(openai, { input: [{ type: 'item_reference', id: item.id }] }).catch((e: unknown) => e))).toEqual({ status: 400, arm: 'blue' });
  });

  it('naming a conversation, is held on blue when the arms keep separate state (conversations are created on blue)', async () => {
    const running = await runProxy(TWO_ACCOUNTS, { random: createRandom(9) });
    setRoute(running.proxy, 0.5);
    const openai = client(running.baseUrl);
    const arms = new Set<string | null>();
    for (let i = 0; i < 12; i++) {
      const { response } = await openai.responses.create({ model: 'gpt-4o', input: 'hi', conversation: `conv_${i}` }).withResponse();
      arms.add(response.headers.get(ARM));
    }
    expect(arms).toEqual(new Set(['blue']));
  });
});

describe('deleting a stored response through the proxy', () => {
  it('forgets the id once the DELETE succeeds upstream, not when it fails', async () => {
    let deletes = 0;
    const upstream = await scriptedServer((req, res) => {
      const model = req.method === 'POST' ? 'green-model' : 'any';
      if (req.method === 'DELETE' && deletes++ === 0) {
        res.writeHead(500, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'try again', type: 'server_error' } }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.method === 'DELETE') return res.end(JSON.stringify({ id: 'resp_9', object: 'response', deleted: true }));
      res.end(JSON.stringify(responseObject('resp_9', model, 'completed', [textItem('a stored answer')])));
    });
    const running = await runProxy(scriptedPlan(upstream.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const openai = client(running.baseUrl);
    expect(await armOf(openai.responses.create({ model: 'blue-model', input: 'hi' }))).toBe('green');
    expect(failure(await openai.responses.delete('resp_9').catch((e: unknown) => e))).toEqual({ status: 500, arm: 'green' });
    // Still there upstream: still read on green.
    expect(await armOf(openai.responses.retrieve('resp_9'))).toBe('green');
    await openai.responses.delete('resp_9');
    expect(await armOf(openai.responses.retrieve('resp_9'))).toBe('blue');
  });
});

describe('the Conversations API and token counts', () => {
  it("go to blue's upstream with the operator's key, the allowed query passed on, and count as passthrough", async () => {
    const upstream = await scriptedServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const path = (req.url ?? '').split('?')[0] as string;
      if (path.endsWith('/input_tokens')) return res.end(JSON.stringify({ object: 'response.input_tokens', input_tokens: 7 }));
      if (path.endsWith('/items')) return res.end(JSON.stringify({ object: 'list', data: [], first_id: null, last_id: null, has_more: false }));
      // An upstream quoting the key it was sent: the application never sees it.
      if (req.method === 'GET') return res.end(JSON.stringify({ id: 'conv_1', object: 'conversation', echoed: req.headers.authorization }));
      res.end(JSON.stringify({ id: 'conv_1', object: 'conversation', created_at: 1, metadata: {} }));
    });
    const running = await runProxy(scriptedPlan(upstream.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0.5);
    const openai = client(running.baseUrl);
    const { data, response } = await openai.conversations.create({ metadata: { topic: 'orders' } }).withResponse();
    expect(data.id).toBe('conv_1');
    expect(response.headers.get(ARM)).toBe('blue');
    await openai.conversations.items.list('conv_1', { limit: 2, order: 'asc' });
    await fetch(`${running.baseUrl}/conversations/conv_1/items?after=msg_1&api_key=sk-leak&limit=3`, { headers: { authorization: 'Bearer x' } });
    const echoed = await fetch(`${running.baseUrl}/conversations/conv_1`, { headers: { authorization: 'Bearer x' } });
    const text = await echoed.text();
    expect(text).toContain('conv_1');
    expect(text).not.toContain(UPSTREAM_KEY.slice(0, 12));
    await openai.conversations.delete('conv_1');
    const count = await openai.responses.inputTokens.count({ model: 'blue-model', input: 'hello' });
    expect(count.input_tokens).toBe(7);
    expect(upstream.seen.map((seen) => seen.path)).toEqual([
      '/v1/conversations',
      '/v1/conversations/conv_1/items?limit=2&order=asc',
      '/v1/conversations/conv_1/items?after=msg_1&limit=3',
      '/v1/conversations/conv_1',
      '/v1/conversations/conv_1',
      '/v1/responses/input_tokens',
    ]);
    for (const seen of upstream.seen) expect(seen.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.parse(upstream.seen[0]?.body ?? '')).toEqual({ metadata: { topic: 'orders' } });
    expect(JSON.parse(upstream.seen[5]?.body ?? '')).toMatchObject({ model: 'blue-model' });
    expect(passedThrough(running)).toBe(6);
  });
});
