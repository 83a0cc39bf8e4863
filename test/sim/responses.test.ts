// The simulator's Responses API (POST /v1/responses): what the openai SDK reads, and its fault profiles as for chat.
import OpenAI from 'openai';
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { parseResponses, responsesStreamReader } from '../../src/upstream/openai-responses.js';
import { fastConfig, sim, sseEvents } from './helpers.js';
import type { SimulatorHandle } from '../../src/sim/index.js';

const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'sk-anything', maxRetries: 0 });

function post(handle: SimulatorHandle, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${handle.baseUrl}/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', input: 'Where is my order?', ...body }),
  });
}

/** What bluegreen's stream reader makes of a streamed body. */
function readStream(text: string) {
  const reader = responsesStreamReader();
  const parser = createParser({ onEvent: (event) => void reader.event(event) });
  parser.feed(text);
  return reader.finish();
}

describe('simulator, Responses API', () => {
  it('answers a response the SDK parses, with usage, the model and output_text; capped by max_output_tokens as incomplete', async () => {
    const handle = await sim(fastConfig());
    const api = client(handle.baseUrl);
    const reply = await api.responses.create({ model: 'm', input: [{ role: 'user', content: 'Hello there, how are you?' }] });
    expect(reply).toMatchObject({ object: 'response', status: 'completed', model: 'm' });
    expect(reply.id).toMatch(/^resp_/);
    expect(reply.usage?.output_tokens).toBe(reply.output_text.split(' ').length);
    const capped = await api.responses.create({ model: 'm', input: 'hi', max_output_tokens: 3 });
    expect(capped).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(capped.output_text.split(' ')).toHaveLength(3);
    const read = parseResponses(capped);
    expect(read.ok && read.reply).toMatchObject({ finishReason: 'length', responseId: capped.id, usage: { completionTokens: 3 } });
  });

  it('streams typed events the SDK reads, ending with response.completed', async () => {
    const handle = await sim(fastConfig());
    const stream = await client(handle.baseUrl).responses.create({ model: 'm', input: 'hi', stream: true });
    const types: string[] = [];
    let text = '';
    let final: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') final = event.response;
    }
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.at(-1)).toBe('response.completed');
    const read = parseResponses(final);
    expect(read.ok && read.reply.content).toBe(text);
    expect(final?.usage?.output_tokens).toBe(text.split(' ').length);
  });

  it('applies the fault profiles: 500 and 429 in OpenAI error bodies, bad responses plain and streamed', async () => {
    const errors = await sim(fastConfig({ error_rate: 1 }));
    expect((await post(errors, {})).status).toBe(500);
    const limited = await sim(fastConfig({ rate_limit_rate: 1 }));
    const answer = await post(limited, {});
    expect(answer.status).toBe(429);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    const bad = await sim(fastConfig({ bad_response_rate: 1 }));
    const plain = new Set<string>();
    const streamed = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const text = await (await post(bad, {})).text();
      const json = (() => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return undefined;
        }
      })();
      const read = json === undefined ? { ok: false as const, reason: 'not JSON' } : parseResponses(json);
      plain.add(read.ok ? `ok:${read.reply.content === '' ? 'empty' : 'text'}` : read.reason);
      const events = await (await post(bad, { stream: true })).text();
      const outcome = readStream(events);
      streamed.add(outcome.ok ? `ok:${outcome.reply.content === '' ? 'empty' : 'text'}` : outcome.reason);
      expect(sseEvents(events)[0]).toBe('response.created');
    }
    expect([...plain].sort()).toEqual(['not JSON', 'ok:empty', 'the response has no output']);
    expect([...streamed].sort()).toEqual(['ok:empty', 'the stream ended without response.completed']);
  });

  it('answers a request without input (and no previous response) with 400', async () => {
    const handle = await sim(fastConfig());
    const answer = await fetch(`${handle.baseUrl}/responses`, { method: 'POST', body: JSON.stringify({ model: 'm' }) });
    expect(answer.status).toBe(400);
    const first = (await (await post(handle, {})).json()) as { id: string };
    expect((await post(handle, { input: undefined, previous_response_id: first.id })).status).toBe(200);
  });
});

describe('simulator, Responses API stored state (one upstream account)', () => {
  it('reads back, lists the input of, and deletes a stored response; refuses what it never stored', async () => {
    const handle = await sim(fastConfig());
    const api = client(handle.baseUrl);
    const reply = await api.responses.create({ model: 'm', input: 'Where is my order?' });
    const read = await api.responses.retrieve(reply.id);
    expect(read).toMatchObject({ id: reply.id, status: 'completed', output_text: reply.output_text });
    const items = await api.responses.inputItems.list(reply.id);
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({ type: 'message', role: 'user' });
    // Continuing it, and naming its output item by id, work; an id this account never gave does not.
    const item = reply.output[0] as { id: string };
    await api.responses.create({ model: 'm', input: [{ type: 'item_reference', id: item.id }], previous_response_id: reply.id });
    const unknown = await api.responses.create({ model: 'm', input: 'and?', previous_response_id: 'resp_elsewhere' }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 400, code: 'previous_response_not_found' });
    const noItem = await api.responses.create({ model: 'm', input: [{ type: 'item_reference', id: 'msg_elsewhere' }] }).catch((e: unknown) => e);
    expect(noItem).toMatchObject({ status: 400 });
    // Only background responses can be cancelled.
    expect(await api.responses.cancel(reply.id).catch((e: unknown) => e)).toMatchObject({ status: 400 });
    expect(await api.responses.delete(reply.id)).toMatchObject({ id: reply.id, deleted: true });
    expect(await api.responses.retrieve(reply.id).catch((e: unknown) => e)).toMatchObject({ status: 404 });
    expect(await api.responses.create({ model: 'm', input: [{ type: 'item_reference', id: item.id }] }).catch((e: unknown) => e)).toMatchObject({
      status: 400,
    });
  });

  it('keeps nothing of a store: false response, and counts input tokens', async () => {
    const handle = await sim(fastConfig());
    const api = client(handle.baseUrl);
    const reply = await api.responses.create({ model: 'm', input: 'hi', store: false });
    expect(await api.responses.retrieve(reply.id).catch((e: unknown) => e)).toMatchObject({ status: 404 });
    const count = await api.responses.inputTokens.count({ model: 'm', input: 'Where is my order? It was due on Monday.' });
    expect(count).toMatchObject({ object: 'response.input_tokens' });
    expect(count.input_tokens).toBeGreaterThan(0);
  });
});
