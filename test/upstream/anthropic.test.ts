import { describe, expect, it } from 'vitest';
import { ANTHROPIC_VERSION } from '../../src/upstream/index.js';
import type { ChatRequest } from '../../src/upstream/types.js';
import { json, scriptedClient, sse, type Handler } from './server.js';

const KEY = 'sk-ant-test-key-987654321';

const request: ChatRequest = {
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'system', content: [{ type: 'text', text: 'Answer in English.' }] },
    { role: 'user', content: 'Hello?', name: 'alice' },
    { role: 'assistant', content: 'Hi.' },
    { role: 'user', content: [{ type: 'text', text: 'And now?' }] },
  ],
  params: { temperature: 0.3, stop: 'END', frequency_penalty: 1 },
  stream: false,
  maxTokens: 128,
  source: 'sampled',
};

function message(text: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-20250514',
    content: text.map((t) => ({ type: 'text', text: t })),
    stop_reason: 'end_turn',
    usage: { input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 4 },
    ...extra,
  };
}

const streamEvents = [
  {
    event: 'message_start',
    data: {
      type: 'message_start',
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-20250514',
        content: [],
        usage: { input_tokens: 25, output_tokens: 1 },
      },
    },
  },
  { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
  { event: 'ping', data: { type: 'ping' } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } } },
  { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' world' } } },
  { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
  { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 12 } } },
];
const messageStop = { event: 'message_stop', data: { type: 'message_stop' } };

describe('Anthropic client', () => {
  const setup = (handlers: Handler | Handler[]) =>
    scriptedClient(handlers, {
      model: 'claude-sonnet-4-20250514',
      apiKey: KEY,
      upstream: { api: 'anthropic', apiKeyEnv: 'ANTHROPIC_API_KEY' },
      random: () => 0,
    });

  it('converts the request (system to top level, headers) and normalises the answer', async () => {
    const { server, client } = await setup(
      json(200, message(['Hello', ', world']), { 'anthropic-ratelimit-requests-remaining': '49', 'anthropic-ratelimit-tokens-remaining': '39000' }),
    );
    const result = await client.send(request);
    expect(result).toMatchObject({
      ok: true,
      status: 200,
      content: 'Hello, world',
      finishReason: 'end_turn',
      servedModel: 'claude-sonnet-4-20250514',
      usage: { promptTokens: 24, completionTokens: 7, totalTokens: 31 },
      attempts: 1,
      rateLimit: { remainingRequests: 49, remainingTokens: 39000 },
    });
    const [req] = server.requests;
    expect(req?.url).toBe('/v1/messages');
    expect(req?.headers['x-api-key']).toBe(KEY);
    expect(req?.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.json).toEqual({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 128,
      system: 'You are terse.\n\nAnswer in English.',
      messages: [
        { role: 'user', content: 'Hello?' },
        { role: 'assistant', content: 'Hi.' },
        { role: 'user', content: [{ type: 'text', text: 'And now?' }] },
      ],
      temperature: 0.3,
      stop_sequences: ['END'],
      stream: false,
    });
  });

  it('reads a stream through message_stop', async () => {
    const { server, client } = await setup(sse([...streamEvents, messageStop]));
    const result = await client.send({ ...request, stream: true });
    expect(result).toMatchObject({
      ok: true,
      stream: true,
      content: 'Hello world',
      finishReason: 'max_tokens',
      servedModel: 'claude-sonnet-4-20250514',
      usage: { promptTokens: 25, completionTokens: 12, totalTokens: 37 },
    });
    expect(result.ttftMs).toBeGreaterThanOrEqual(0);
    expect(server.requests[0]?.json).toMatchObject({ stream: true });
    expect(server.requests[0]?.json).not.toHaveProperty('stream_options');
  });

  it('fails a stream without message_stop as bad_response', async () => {
    const { client } = await setup(sse(streamEvents));
    const result = await client.send({ ...request, stream: true });
    expect(result).toMatchObject({ ok: false, failure: 'bad_response', attempts: 1 });
    expect(result.errorMessage).toContain('the stream ended without message_stop');
    expect(result.errorMessage).toContain('upstream.api (anthropic)');
  });

  it('fails a stream with an error event as bad_response', async () => {
    const { client } = await setup(
      sse([streamEvents[0], { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }]),
    );
    const result = await client.send({ ...request, stream: true });
    expect(result).toMatchObject({ ok: false, failure: 'bad_response', attempts: 1 });
    expect(result.errorMessage).toContain('Overloaded');
  });

  it('fails a body without a content array as bad_response', async () => {
    const { client } = await setup(json(200, { id: 'msg_1', type: 'message', model: 'm' }));
    const result = await client.send(request);
    expect(result).toMatchObject({ ok: false, failure: 'bad_response' });
    expect(result.errorMessage).toContain('no content array');
  });

  it('retries 529 overloaded_error', async () => {
    const overloaded = json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    const { client, delays } = await setup([overloaded, overloaded, json(200, message(['ok']))]);
    expect(await client.send(request)).toMatchObject({ ok: true, attempts: 3, content: 'ok' });
    expect(delays).toHaveLength(2);
  });

  it('explains a persistent 529', async () => {
    const { server, client } = await setup(json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    const result = await client.send(request);
    expect(result).toMatchObject({ ok: false, failure: 'server_error', status: 529, attempts: 4 });
    expect(result.errorMessage).toBe(
      `green arm: 529 from ${server.base}/messages (Overloaded) after 4 attempts — the upstream is overloaded for the green arm's requests (claude-sonnet-4-20250514); try later or lower traffic.rate`,
    );
  });

  it('names the key variable when the key is rejected', async () => {
    const { server, client } = await setup(json(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }));
    const result = await client.send(request);
    expect(result.errorMessage).toBe(`green arm: 401 from ${server.base}/messages — the key in ANTHROPIC_API_KEY was rejected; check it`);
  });
});
