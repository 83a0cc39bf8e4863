import { describe, expect, it } from 'vitest';
import { SignalWatch } from '../../src/upstream/signal-watch.js';
import { closeAfterTest } from '../helpers/close-after-test.js';
import { realSleep } from '../../src/core/clock.js';
import { createUpstreamClient } from '../../src/upstream/index.js';
import type { ChatRequest } from '../../src/upstream/types.js';
import { json, openAiReply, sse, stall, startServer, upstreamConfig, scriptedClient, type Handler } from './server.js';
import { refusedPort } from '../live/helpers.js';
import { FakeClock } from '../helpers/fake-clock.js';

const KEY = 'sk-test-secret-0123456789';
const HOUR = 3_600_000;

function chat(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return {
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello?' },
    ],
    params: { temperature: 0.2 },
    stream: false,
    maxTokens: 64,
    source: 'synthetic',
    ...overrides,
  };
}

describe('OpenAI client', () => {
  const setup = (handlers: Handler | Handler[], upstream: Parameters<typeof upstreamConfig>[1] = {}) =>
    scriptedClient(handlers, { model: 'gpt-4.1', apiKey: KEY, upstream, random: () => 0.5 });

  it('sends the request and normalises a non-streamed answer', async () => {
    const { server, client } = await setup(
      json(200, openAiReply('Hi there'), { 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-remaining-tokens': '29000' }),
      { headers: { 'X-Title': 'bluegreen-test' } },
    );
    const result = await client.send(chat());
    expect(result).toMatchObject({
      arm: 'green',
      model: 'gpt-4.1',
      servedModel: 'gpt-4.1-2025-04-14',
      ok: true,
      status: 200,
      content: 'Hi there',
      finishReason: 'stop',
      usage: { promptTokens: 12, completionTokens: 5, totalTokens: 17 },
      attempts: 1,
      stream: false,
      rateLimit: { remainingRequests: 499, remainingTokens: 29000 },
    });
    expect(result.failure).toBeUndefined();
    expect(result.ttftMs).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const [req] = server.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v1/chat/completions');
    expect(req?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(req?.headers['x-title']).toBe('bluegreen-test');
    expect(req?.json).toEqual({
      temperature: 0.2,
      model: 'gpt-4.1',
      messages: chat().messages,
      max_tokens: 64,
      stream: false,
    });
  });

  it('ignores token counts no upstream could mean (negative, fractional, astronomical): they made the cost Infinity, and state.json unreadable', async () => {
    for (const usage of [
      { prompt_tokens: -5, completion_tokens: 5 },
      { prompt_tokens: 5, completion_tokens: 1e308 },
      { prompt_tokens: 5.5, completion_tokens: 5 },
    ]) {
      const { client } = await setup(json(200, { ...openAiReply('Hi there'), usage }));
      const result = await client.send(chat());
      expect(result.ok).toBe(true);
      // As with no usage at all: estimated from the text, so the cost stays a finite number.
      expect(result.usage).toMatchObject({ estimated: true, promptTokens: 12 });
      expect(Number.isSafeInteger(result.usage?.completionTokens)).toBe(true);
    }
  });

  it('keeps params but never lets them override model, stream or max_tokens', async () => {
    const { server, client } = await setup(json(200, openAiReply('ok')));
    await client.send(chat({ params: { model: 'evil', stream: true, stream_options: {}, max_completion_tokens: 9, top_p: 0.9 } }));
    expect(server.requests[0]?.json).toMatchObject({ model: 'gpt-4.1', stream: false, max_tokens: 64, top_p: 0.9 });
    expect(server.requests[0]?.json).not.toHaveProperty('stream_options');
    expect(server.requests[0]?.json).not.toHaveProperty('max_completion_tokens');
  });

  it('reads a stream with its final usage chunk and records time to first token', async () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
      id: 'c1',
      object: 'chat.completion.chunk',
      model: 'gpt-4.1-2025-04-14',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    const { server, client } = await setup(
      sse([
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo' }),
        chunk({}, 'stop'),
        {
          id: 'c1',
          object: 'chat.completion.chunk',
          model: 'gpt-4.1-2025-04-14',
          choices: [],
          usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
        },
        '[DONE]',
      ]),
    );
    const result = await client.send(chat({ stream: true }));
    expect(result).toMatchObject({
      ok: true,
      stream: true,
      content: 'Hello',
      finishReason: 'stop',
      servedModel: 'gpt-4.1-2025-04-14',
      usage: { promptTokens: 9, completionTokens: 2, totalTokens: 11 },
      attempts: 1,
    });
    expect(result.ttftMs).toBeGreaterThanOrEqual(0);
    expect(result.ttftMs).toBeLessThanOrEqual(result.latencyMs);
    expect(server.requests[0]?.json).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(server.requests[0]?.headers.accept).toBe('text/event-stream');
  });

  // clock24: latencies were timed on the wall clock (run-rollout gave the client clock.now): an NTP step mid-request
  // measured an hour-long latency (a latency rollback of a healthy green) or a negative one.
  it('times latency and time to first token on the steady clock, whichever way the wall clock steps mid-request', async () => {
    const clock = new FakeClock();
    // Every step of the clock is taken before the answer is written: nothing the client reads races it.
    const after = (wallStep: number, ms: number, answer: Handler): Handler => {
      return (req, res) => {
        clock.jumpWall(wallStep);
        void clock.advance(ms).then(() => answer(req, res));
      };
    };
    const streamed = sse([{ id: 'c1', model: 'm', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: 'stop' }] }, '[DONE]']);
    const { client } = await scriptedClient([after(-HOUR, 250, json(200, openAiReply('ok'))), after(HOUR, 120, streamed)], {
      model: 'gpt-4.1',
      apiKey: KEY,
      random: () => 0.5,
      clock,
    });
    expect(await client.send(chat())).toMatchObject({ ok: true, latencyMs: 250 });
    expect(await client.send(chat({ stream: true }))).toMatchObject({ ok: true, latencyMs: 120, ttftMs: 120 });
  });

  it('fails a stream that ends without data: [DONE] as bad_response, without retrying', async () => {
    const { client, delays } = await setup(sse([{ model: 'm', choices: [{ index: 0, delta: { content: 'partial' } }] }]));
    const result = await client.send(chat({ stream: true }));
    expect(result).toMatchObject({ ok: false, failure: 'bad_response', status: 200, attempts: 1, content: '' });
    expect(result.errorMessage).toContain('the stream ended without data: [DONE]');
    expect(delays).toEqual([]);
  });

  it('fails a stream that carries an error object as bad_response', async () => {
    const { client } = await setup(sse([{ error: { message: 'upstream exploded', type: 'server_error' } }, '[DONE]']));
    const result = await client.send(chat({ stream: true }));
    expect(result).toMatchObject({ ok: false, failure: 'bad_response', attempts: 1 });
    expect(result.errorMessage).toContain('upstream exploded');
  });

  it('reads a final [DONE] that is not followed by a blank line', async () => {
    const { client } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"model":"m","choices":[{"index":0,"delta":{"content":"x"}}]}\n\ndata: [DONE]\n');
    });
    expect(await client.send(chat({ stream: true }))).toMatchObject({ ok: true, content: 'x' });
  });

  it('fails invalid JSON and a body without choices as bad_response', async () => {
    const { server, client } = await setup([json(200, '{"choices": [oops'), json(200, { id: 'x', model: 'm' }), json(200, { choices: [] })]);
    const invalid = await client.send(chat());
    expect(invalid).toMatchObject({ ok: false, failure: 'bad_response', status: 200, attempts: 1 });
    expect(invalid.errorMessage).toBe(
      `green arm: 200 from ${server.base}/chat/completions with an unusable body (the body is not JSON) — check that upstream.api (openai) matches the endpoint`,
    );
    const noChoices = await client.send(chat());
    expect(noChoices).toMatchObject({ ok: false, failure: 'bad_response' });
    expect(noChoices.errorMessage).toContain('no choices');
    expect(await client.send(chat())).toMatchObject({ ok: false, failure: 'bad_response' });
  });

  it('treats empty or null content in a proper body as a success', async () => {
    const { client } = await setup([
      json(200, openAiReply('')),
      json(200, openAiReply('', { choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'length' }] })),
    ]);
    expect(await client.send(chat())).toMatchObject({ ok: true, content: '', finishReason: 'stop' });
    expect(await client.send(chat())).toMatchObject({ ok: true, content: '', finishReason: 'length' });
  });

  it('names the arm, status, endpoint and remedy for a rejected key', async () => {
    const { server, client } = await setup(
      json(401, { error: { message: `Incorrect API key provided: ${KEY}`, type: 'invalid_request_error', code: 'invalid_api_key' } }),
    );
    const result = await client.send(chat());
    expect(result).toMatchObject({ ok: false, failure: 'auth', status: 401, attempts: 1 });
    expect(result.errorMessage).toBe(`green arm: 401 from ${server.base}/chat/completions — the key in UPSTREAM_API_KEY was rejected; check it`);
  });

  it('never puts the key in errorMessage, even when the server echoes it back', async () => {
    const echo: Handler = (req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `bad request from ${req.headers.authorization}`, type: 'invalid_request_error' } }));
    };
    const { client } = await setup([echo, (req, res) => json(500, `server saw ${req.headers.authorization}`)(req, res)], {
      retries: { max: 0, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const first = await client.send(chat());
    expect(first).toMatchObject({ failure: 'client_error', status: 400 });
    expect(first.errorMessage).not.toContain(KEY);
    expect(first.errorMessage).toContain('[redacted]');
    const second = await client.send(chat());
    expect(second).toMatchObject({ failure: 'server_error', status: 500 });
    expect(second.errorMessage).not.toContain(KEY);
    expect(second.errorMessage).toContain('server saw Bearer [redacted]');
  });

  it('reuses connections (keep-alive)', async () => {
    const { server, client } = await setup(json(200, openAiReply('ok')));
    for (let i = 0; i < 6; i++) await client.send(chat());
    // undici frees a socket a tick after the body is read, so the next request may open a second one.
    expect(new Set(server.requests.map((r) => r.remotePort)).size).toBeLessThanOrEqual(2);
  });

  it('rejects with the abort reason when the caller aborts (not counted as an upstream failure)', async () => {
    const { server, client } = await setup(stall);
    const controller = new AbortController();
    const pending = client.send(chat(), new SignalWatch(controller.signal));
    // Abort once the request has reached the server, without sleeping.
    while (server.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });

  it('rejects when the caller aborts during the wait before a retry', async () => {
    const controller = new AbortController();
    const server = await startServer(json(503, { error: { message: 'busy' } }, { 'retry-after': '30' }));
    const waits: number[] = [];
    const client = closeAfterTest(
      createUpstreamClient({
        arm: 'green',
        model: 'gpt-4.1',
        upstream: upstreamConfig(server.base),
        // The real sleep, with the abort arriving as the wait starts.
        sleep: (ms, signal) => {
          waits.push(ms);
          const pending = realSleep(ms, signal);
          controller.abort(new Error('stop now'));
          return pending;
        },
      }),
    );
    await expect(client.send(chat(), new SignalWatch(controller.signal))).rejects.toThrow('stop now');
    expect(waits).toEqual([30_000]);
    expect(server.requests).toHaveLength(1);
  });

  it('shares one caller signal across many concurrent requests without a listener warning', async () => {
    const { client } = await setup(json(200, openAiReply('ok')));
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const cancel = new SignalWatch(new AbortController().signal);
      const results = await Promise.all(Array.from({ length: 30 }, () => client.send(chat(), cancel)));
      expect(results.every((r) => r.ok)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('says so when a stream request is answered with plain JSON', async () => {
    const { client } = await setup(json(200, openAiReply('not streamed')));
    const result = await client.send(chat({ stream: true }));
    expect(result).toMatchObject({ ok: false, failure: 'bad_response' });
    expect(result.errorMessage).toContain('asked for a stream, got application/json');
  });

  it('lists models: ids for a 2xx list, the status for any answer, a rejection only without one', async () => {
    const { client } = await setup([json(200, { object: 'list', data: [{ id: 'gpt-4.1' }, { id: 'gpt-4o' }] }), json(503, {}), json(200, 'not a list')]);
    expect(await client.listModels()).toEqual({ ids: ['gpt-4.1', 'gpt-4o'], status: 200 });
    expect(await client.listModels()).toEqual({ ids: [], status: 503 });
    expect(await client.listModels()).toEqual({ ids: [], status: 200 });
    const port = await refusedPort();
    const offline = createUpstreamClient({ arm: 'blue', model: 'm', upstream: upstreamConfig(`http://127.0.0.1:${port}/v1`) });
    try {
      await expect(offline.listModels()).rejects.toMatchObject({ name: 'UpstreamError', failure: 'connection', reason: 'ECONNREFUSED' });
    } finally {
      await offline.close();
    }
  });

  it('sends no auth header when there is no key', async () => {
    const server = await startServer(json(200, openAiReply('ok')));
    const client = closeAfterTest(createUpstreamClient({ arm: 'blue', model: 'llama3', upstream: upstreamConfig(server.base, { apiKeyEnv: undefined }) }));
    expect(await client.send(chat())).toMatchObject({ ok: true, arm: 'blue' });
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
  });
});
