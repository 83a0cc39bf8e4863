import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { eventLoopTurns } from '../helpers/turns.js';
import { until } from '../helpers/until.js';
import { chat, fastConfig, messages, sim, sseData, sseEvents } from './helpers.js';

describe('simulator faults at rate 1.0', () => {
  it('error_rate: 500 with an error body in each dialect', async () => {
    const handle = await sim(fastConfig({ error_rate: 1 }));
    const openai = await chat(handle, {});
    expect(openai.status).toBe(500);
    expect(await openai.json()).toEqual({ error: { message: expect.any(String), type: 'server_error', param: null, code: null } });
    const anthropic = await messages(handle, {});
    expect(anthropic.status).toBe(500);
    expect(await anthropic.json()).toEqual({ type: 'error', error: { type: 'api_error', message: expect.any(String) } });
  });

  it('rate_limit_rate: 429 with retry-after-ms, retry-after and a rate_limit_exceeded body', async () => {
    const handle = await sim(fastConfig({ rate_limit_rate: 1 }));
    const openai = await chat(handle, { stream: true });
    expect(openai.status).toBe(429);
    const waitMs = Number(openai.headers.get('retry-after-ms'));
    expect(waitMs).toBeGreaterThanOrEqual(100);
    expect(waitMs).toBeLessThanOrEqual(500);
    expect(openai.headers.get('retry-after')).toBe('1');
    expect(openai.headers.get('x-ratelimit-remaining-requests')).not.toBeNull();
    expect(await openai.json()).toMatchObject({ error: { type: 'requests', code: 'rate_limit_exceeded', param: null } });
    const anthropic = await messages(handle, {});
    expect(anthropic.status).toBe(429);
    expect(anthropic.headers.get('retry-after-ms')).not.toBeNull();
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('overload_rate: 529 overloaded_error on Anthropic, 503 on OpenAI', async () => {
    const handle = await sim(fastConfig({ overload_rate: 1 }));
    const anthropic = await messages(handle, { stream: true });
    expect(anthropic.status).toBe(529);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    const openai = await chat(handle, {});
    expect(openai.status).toBe(503);
    expect(await openai.json()).toMatchObject({ error: { type: 'server_error' } });
  });

  it('timeout_rate: never answers, and close() still resolves promptly', async () => {
    const handle = await sim(fastConfig({ timeout_rate: 1 }));
    const pending = request(`${handle.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const outcome = pending.then(
      (r) => `answered ${r.statusCode}`,
      () => 'connection closed',
    );
    // Once the simulator has the request, an answer within the profile's 10 ms would come in a few loop turns.
    await until(() => handle.requestCount() === 1, 'the simulator to have the request');
    let settled = false;
    void outcome.then(() => (settled = true));
    await eventLoopTurns(50);
    expect(settled).toBe(false);
    // close() resolving at all is the point: a server closing with the hanging request open would wait for good.
    await handle.close();
    expect(await outcome).toBe('connection closed');
  });

  it('bad_response_rate, plain: empty content, invalid JSON (200) or no choices', async () => {
    const handle = await sim(fastConfig({ bad_response_rate: 1 }));
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const response = await chat(handle, {});
      expect(response.status).toBe(200);
      const text = await response.text();
      let body: { choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        seen.add('invalid_json');
        continue;
      }
      if (body.choices.length === 0) {
        seen.add('no_choices');
      } else {
        expect(body.choices[0]?.message.content).toBe('');
        expect(body.usage.completion_tokens).toBe(0);
        seen.add('empty');
      }
    }
    expect([...seen].sort()).toEqual(['empty', 'invalid_json', 'no_choices']);
  });

  it('bad_response_rate, Anthropic plain: empty text, invalid JSON or an empty content list', async () => {
    const handle = await sim(fastConfig({ bad_response_rate: 1 }));
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const text = await (await messages(handle, {})).text();
      try {
        const body = JSON.parse(text) as { content: { text: string }[] };
        seen.add(body.content.length === 0 ? 'no_content' : body.content[0]?.text === '' ? 'empty' : 'fine');
      } catch {
        seen.add('invalid_json');
      }
    }
    expect([...seen].sort()).toEqual(['empty', 'invalid_json', 'no_content']);
  });

  it('bad_response_rate, streams: cut before [DONE] or no content at all', async () => {
    const handle = await sim(fastConfig({ bad_response_rate: 1 }));
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const data = sseData(await (await chat(handle, { stream: true, stream_options: { include_usage: true } })).text());
      if (data.at(-1) !== '[DONE]') {
        // Cut: some content came, but no finish_reason, usage or terminator.
        const chunks = data.map((d) => JSON.parse(d) as { choices: { delta: { content?: string }; finish_reason: string | null }[] });
        expect(chunks.some((c) => (c.choices[0]?.delta.content ?? '') !== '')).toBe(true);
        expect(chunks.every((c) => c.choices[0]?.finish_reason === null)).toBe(true);
        seen.add('cut');
      } else {
        const text = data
          .slice(0, -1)
          .map((d) => (JSON.parse(d) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
          .join('');
        expect(text).toBe('');
        seen.add('empty');
      }
    }
    expect([...seen].sort()).toEqual(['cut', 'empty']);
  });

  it('bad_response_rate, Anthropic streams: cut before message_stop', async () => {
    const handle = await sim(fastConfig({ bad_response_rate: 1 }, { seed: 2 }));
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const events = sseEvents(await (await messages(handle, { stream: true })).text());
      if (events.at(-1) === 'message_stop') {
        expect(events).not.toContain('content_block_delta');
        seen.add('empty');
      } else {
        expect(events).toContain('message_start');
        expect(events).not.toContain('message_delta');
        seen.add('cut');
      }
    }
    expect([...seen].sort()).toEqual(['cut', 'empty']);
  });
});

describe('simulator, requests it refuses', () => {
  it('answers an unknown model with 404 model_not_found', async () => {
    const handle = await sim(fastConfig());
    const openai = await chat(handle, { model: 'gpt-9' });
    expect(openai.status).toBe(404);
    expect(await openai.json()).toEqual({
      error: { message: expect.stringContaining('gpt-9'), type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
    });
    const anthropic = await messages(handle, { model: 'claude-9' });
    expect(anthropic.status).toBe(404);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect((await fetch(`${handle.baseUrl}/models/gpt-9`)).status).toBe(404);
    // A malformed %-escape is no model either: a 404 in the dialect's shape, not a 500 (fleet35).
    const malformed = await fetch(`${handle.baseUrl}/models/gpt%E0%A4%A`);
    expect(malformed.status).toBe(404);
    expect(await malformed.json()).toMatchObject({ error: { code: 'model_not_found' } });
  });

  it('serves unlisted models from the default profile', async () => {
    const handle = await sim(fastConfig({}, { default: { latency: { p50: 5, p95: 10 } } }));
    const response = await chat(handle, { model: 'anything-else' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ model: 'anything-else' });
  });

  it('answers bad JSON and missing fields with 400, unknown paths with 404 and wrong methods with 405', async () => {
    const handle = await sim(fastConfig());
    const bad = await fetch(`${handle.baseUrl}/chat/completions`, { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const noModel = await chat(handle, { model: undefined });
    expect(noModel.status).toBe(400);
    expect(await noModel.json()).toMatchObject({ error: { param: 'model' } });
    const noMessages = await chat(handle, { messages: [] });
    expect(noMessages.status).toBe(400);
    expect((await fetch(`${handle.baseUrl}/embeddings`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${handle.baseUrl}/chat/completions`)).status).toBe(405);
  });
});
