import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '../../src/sim/index.js';
import { fastConfig, messages, sim, sseEvents } from './helpers.js';

// The Anthropic SDK adds /v1 itself, so it gets the origin.
function client(handle: SimulatorHandle): Anthropic {
  return new Anthropic({ baseURL: `http://127.0.0.1:${handle.port}`, apiKey: 'sk-ant-anything', maxRetries: 0 });
}

const ASK = [{ role: 'user' as const, content: 'Summarise my last invoice, please.' }];

describe('simulator, Anthropic dialect', () => {
  it('answers a message the SDK parses, with usage and the requested model', async () => {
    const handle = await sim(fastConfig());
    const reply = await client(handle).messages.create({ model: 'm', max_tokens: 256, system: 'Be brief.', messages: ASK });
    expect(reply.type).toBe('message');
    expect(reply.role).toBe('assistant');
    expect(reply.model).toBe('m');
    expect(reply.stop_reason).toBe('end_turn');
    const block = reply.content[0];
    expect(block?.type).toBe('text');
    const text = block?.type === 'text' ? block.text : '';
    expect(reply.usage.output_tokens).toBe(text.split(' ').length);
    expect(reply.usage.input_tokens).toBeGreaterThan(10);
  });

  it('stops at max_tokens with stop_reason max_tokens', async () => {
    const handle = await sim(fastConfig());
    const reply = await client(handle).messages.create({ model: 'm', max_tokens: 4, messages: ASK });
    expect(reply.stop_reason).toBe('max_tokens');
    expect(reply.usage.output_tokens).toBe(4);
  });

  it('streams the full event sequence; the SDK assembles the final message', async () => {
    const handle = await sim(fastConfig());
    const stream = client(handle).messages.stream({ model: 'm', max_tokens: 256, messages: ASK });
    let streamed = '';
    stream.on('text', (delta) => (streamed += delta));
    const final = await stream.finalMessage();
    const block = final.content[0];
    expect(block?.type === 'text' ? block.text : '').toBe(streamed);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(streamed.split(' ').length);
    expect(final.usage.input_tokens).toBeGreaterThan(0);
  });

  it('sends message_start … message_stop and no [DONE]', async () => {
    const handle = await sim(fastConfig());
    const text = await (await messages(handle, { stream: true })).text();
    const events = sseEvents(text).filter((e) => e !== 'ping');
    expect(events[0]).toBe('message_start');
    expect(events[1]).toBe('content_block_start');
    expect(events.slice(2, -3).every((e) => e === 'content_block_delta')).toBe(true);
    expect(events.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(text).not.toContain('[DONE]');
  });

  it('refuses a request without anthropic-version, like the real API', async () => {
    const handle = await sim(fastConfig());
    const response = await fetch(`${handle.baseUrl}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', max_tokens: 10, messages: ASK }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
  });

  it('requires max_tokens', async () => {
    const handle = await sim(fastConfig());
    const response = await messages(handle, { max_tokens: undefined });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('lists models in a shape the SDK accepts', async () => {
    const handle = await sim({ models: { 'claude-sonnet-4': {}, 'claude-opus-4': {} } });
    const ids: string[] = [];
    for await (const model of client(handle).models.list()) ids.push(model.id);
    expect(ids).toEqual(['claude-sonnet-4', 'claude-opus-4']);
    const page = await client(handle).models.list();
    expect(page.data[0]).toMatchObject({ type: 'model', display_name: 'claude-sonnet-4' });
  });

  it('sends both x-ratelimit-* and anthropic-ratelimit-* headers', async () => {
    const handle = await sim(fastConfig());
    const response = await messages(handle, {});
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('9999');
    expect(response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('9999');
    expect(response.headers.get('request-id')).toMatch(/^req_/);
  });

  // The proxy relays the SDK's token counts to blue's upstream (docs/proxy.md): on the demo, that is this simulator.
  it('counts tokens for the SDK, in the same figure a message reports, and refuses a count without messages in its shape', async () => {
    const handle = await sim(fastConfig());
    const count = await client(handle).messages.countTokens({ model: 'm', system: 'Be brief.', messages: ASK });
    const reply = await client(handle).messages.create({ model: 'm', max_tokens: 16, system: 'Be brief.', messages: ASK });
    expect(count.input_tokens).toBe(reply.usage.input_tokens);
    const refused = await client(handle)
      .messages.countTokens({ model: 'm', messages: [] })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, error: { type: 'error', error: { type: 'invalid_request_error' } } });
  });
});
