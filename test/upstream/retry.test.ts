import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeAfterTest } from '../helpers/close-after-test.js';
import { backoffMs, retryAfterMs } from '../../src/core/retry.js';
import { createUpstreamClient, isRetryable } from '../../src/upstream/index.js';
import type { ChatRequest } from '../../src/upstream/types.js';
import { json, openAiReply, recordingSleep, sse, stall, upstreamConfig, scriptedClient, type Handler } from './server.js';
import { refusedPort } from '../live/helpers.js';
import { until } from '../helpers/until.js';

afterEach(() => vi.useRealTimers());

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const policy = { max: 3, baseDelayMs: 100, maxDelayMs: 1000 };
const request: ChatRequest = { messages: [{ role: 'user', content: 'hi' }], params: {}, stream: false, maxTokens: 16, source: 'synthetic' };

describe('retry rules', () => {
  it('reads retry-after-ms, then retry-after in seconds or as an HTTP date, only within 0–60 s', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250' }, NOW)).toBe(250);
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '9' }, NOW)).toBe(250);
    expect(retryAfterMs({ 'retry-after': '2' }, NOW)).toBe(2000);
    expect(retryAfterMs({ 'retry-after': '0' }, NOW)).toBe(0);
    expect(retryAfterMs({ 'retry-after': new Date(NOW + 3000).toUTCString() }, NOW)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': '60' }, NOW)).toBe(60_000);
    expect(retryAfterMs({ 'retry-after': '61' }, NOW)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after-ms': '120000' }, NOW)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': new Date(NOW + 120_000).toUTCString() }, NOW)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': new Date(NOW - 5000).toUTCString() }, NOW)).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': 'soon' }, NOW)).toBeUndefined();
    expect(retryAfterMs({}, NOW)).toBeUndefined();
  });

  it('backs off exponentially with full jitter, capped at maxDelay', () => {
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffMs(n, policy, top))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffMs(2, policy, () => 0)).toBe(0);
    expect(backoffMs(2, policy, () => 0.5)).toBe(200);
  });

  it('retries 408, 409, 429, 5xx, timeouts and connection errors only', () => {
    expect(isRetryable('timeout', 408)).toBe(true);
    expect(isRetryable('client_error', 409)).toBe(true);
    expect(isRetryable('rate_limited', 429)).toBe(true);
    expect(isRetryable('server_error', 529)).toBe(true);
    expect(isRetryable('timeout')).toBe(true);
    expect(isRetryable('connection')).toBe(true);
    for (const status of [400, 404, 422]) expect(isRetryable('client_error', status)).toBe(false);
    expect(isRetryable('auth', 401)).toBe(false);
    expect(isRetryable('quota', 429)).toBe(false);
    expect(isRetryable('bad_response', 200)).toBe(false);
  });
});

describe('retry loop against a scripted upstream', () => {
  const setup = (handlers: Handler | Handler[], upstream: Parameters<typeof upstreamConfig>[1] = {}) =>
    scriptedClient(handlers, { model: 'gpt-4.1', apiKey: 'sk-retry-key-abcdef', upstream, random: () => 0.999999, clock: { now: () => NOW } });

  const ok = json(200, openAiReply('done'));
  const rateLimited = (headers: Record<string, string>) =>
    json(429, { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }, headers);

  it('waits retry-after-ms', async () => {
    const { client, delays } = await setup([rateLimited({ 'retry-after-ms': '250' }), ok]);
    expect(await client.send(request)).toMatchObject({ ok: true, attempts: 2 });
    expect(delays).toEqual([250]);
  });

  it('waits retry-after in seconds', async () => {
    const { client, delays } = await setup([rateLimited({ 'retry-after': '2' }), ok]);
    expect(await client.send(request)).toMatchObject({ ok: true, attempts: 2 });
    expect(delays).toEqual([2000]);
  });

  it('waits until a retry-after HTTP date', async () => {
    const { client, delays } = await setup([rateLimited({ 'retry-after': new Date(NOW + 3000).toUTCString() }), ok]);
    expect(await client.send(request)).toMatchObject({ ok: true, attempts: 2 });
    expect(delays).toEqual([3000]);
  });

  it('ignores a retry-after over 60 s and backs off instead, capped by maxDelay', async () => {
    const { server, client, delays } = await setup(rateLimited({ 'retry-after': '120' }), { retries: { max: 5, baseDelayMs: 100, maxDelayMs: 1000 } });
    const result = await client.send(request);
    expect(result).toMatchObject({ ok: false, failure: 'rate_limited', status: 429, attempts: 6 });
    expect(result.errorMessage).toBe(
      `green arm: 429 from ${server.base}/chat/completions (Rate limit reached) after 6 attempts — the upstream is rate limiting; lower traffic.rate or raise the account's limits`,
    );
    expect(delays).toEqual([99, 199, 399, 799, 999]);
  });

  it('names the failing arm and its model when 5xx persist (one arm failing is not the whole upstream failing)', async () => {
    const { server, client } = await setup(json(500, { error: { message: 'The server had an error', type: 'server_error' } }));
    const result = await client.send(request);
    expect(result).toMatchObject({ ok: false, failure: 'server_error', status: 500, attempts: 4 });
    expect(result.errorMessage).toBe(
      `green arm: 500 from ${server.base}/chat/completions (The server had an error) after 4 attempts — the upstream is failing the green arm's requests (gpt-4.1); check its status`,
    );
  });

  it.each([
    [400, 'client_error'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'client_error'],
  ] as const)('does not retry %i (%s)', async (status, failure) => {
    const { server, client, delays } = await setup(json(status, { error: { message: 'nope', type: 'invalid_request_error' } }));
    expect(await client.send(request)).toMatchObject({ ok: false, status, failure, attempts: 1 });
    expect(server.requests).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('does not retry insufficient_quota (in error.code or error.type)', async () => {
    const { server, client } = await setup([
      json(429, { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } }),
      json(429, { error: { message: 'You exceeded your current quota', type: 'insufficient_quota' } }),
    ]);
    const first = await client.send(request);
    expect(first).toMatchObject({ ok: false, failure: 'quota', status: 429, attempts: 1 });
    expect(first.errorMessage).toContain('out of quota');
    expect(await client.send(request)).toMatchObject({ ok: false, failure: 'quota', attempts: 1 });
    expect(server.requests).toHaveLength(2);
  });

  it('retries 500, 502 and 529, then succeeds, counting attempts', async () => {
    const { client, delays } = await setup([
      json(500, { error: { message: 'internal', type: 'server_error' } }),
      json(502, '<html>Bad Gateway</html>'),
      json(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
      ok,
    ]);
    const result = await client.send(request);
    expect(result).toMatchObject({ ok: true, attempts: 4, status: 200, content: 'done' });
    expect(delays).toEqual([99, 199, 399]);
  });

  it('gives up after retries.max with the last status', async () => {
    const { server, client } = await setup(json(503, { error: { message: 'unavailable' } }), { retries: { max: 2, baseDelayMs: 10, maxDelayMs: 10 } });
    const result = await client.send(request);
    expect(result).toMatchObject({ ok: false, failure: 'server_error', status: 503, attempts: 3 });
    expect(server.requests).toHaveLength(3);
  });

  it('retries 408 and 409', async () => {
    const { client } = await setup([json(408, { error: { message: 'timeout' } }), json(409, { error: { message: 'conflict' } }), ok]);
    expect(await client.send(request)).toMatchObject({ ok: true, attempts: 3 });
  });

  it('classifies a 408 that persists as timeout', async () => {
    const { client } = await setup(json(408, {}), { retries: { max: 0, baseDelayMs: 1, maxDelayMs: 1 } });
    expect(await client.send(request)).toMatchObject({ ok: false, failure: 'timeout', status: 408, attempts: 1 });
  });

  it('classifies a refused connection as connection and retries it', async () => {
    const port = await refusedPort();
    const recorder = recordingSleep();
    const client = closeAfterTest(
      createUpstreamClient({
        arm: 'blue',
        model: 'gpt-4o',
        upstream: upstreamConfig(`http://127.0.0.1:${port}/v1`),
        sleep: recorder.sleep,
        random: () => 0,
      }),
    );
    const result = await client.send(request);
    expect(result).toMatchObject({ ok: false, failure: 'connection', attempts: 4 });
    expect(result.status).toBeUndefined();
    expect(result.errorMessage).toBe(
      `blue arm: could not reach http://127.0.0.1:${port}/v1/chat/completions (ECONNREFUSED) after 4 attempts — check upstream.base_url and that the upstream is up`,
    );
    expect(recorder.delays).toEqual([0, 0, 0]);
  });

  it('times a request out after requestMs', async () => {
    const { server, client } = await setup(stall, {
      timeout: { connectMs: 1000, requestMs: 150, idleMs: 5000 },
      retries: { max: 0, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const result = await client.send(request);
    expect(result).toMatchObject({ ok: false, failure: 'timeout', attempts: 1 });
    expect(result.errorMessage).toBe(
      `green arm: ${server.base}/chat/completions timed out (request timeout, 150ms) — raise upstream.timeout.request or check the upstream's load`,
    );
  });

  it('retries a timeout and then succeeds', async () => {
    const { server, client } = await setup([stall, ok], { timeout: { connectMs: 1000, requestMs: 150, idleMs: 5000 } });
    // The request timers are faked and moved past the stalled first attempt only: a real 150 ms could run out on the
    // second attempt too, answered at once, had a loaded machine stalled this process meanwhile (3 attempts, not 2).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const sent = client.send(request);
    await until(() => server.requests.length === 1, 'the first attempt at the server');
    await vi.advanceTimersByTimeAsync(150);
    expect(await sent).toMatchObject({ ok: true, attempts: 2 });
  });

  it('times a stream out when it goes quiet for idleMs', async () => {
    const quiet: Handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content: 'Hel' } }] })}\n\n`);
      // ...and nothing more.
    };
    const { client } = await setup([quiet, sse([{ model: 'm', choices: [{ index: 0, delta: { content: 'Hello' } }] }, '[DONE]'])], {
      timeout: { connectMs: 1000, requestMs: 10_000, idleMs: 150 },
      retries: { max: 0, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const result = await client.send({ ...request, stream: true });
    expect(result).toMatchObject({ ok: false, failure: 'timeout', status: 200, attempts: 1 });
    expect(result.errorMessage).toContain('(stream idle for 150ms) — raise upstream.timeout.idle');
    expect(await client.send({ ...request, stream: true })).toMatchObject({ ok: true, content: 'Hello' });
  });

  it('keeps rate-limit headers from the last attempt', async () => {
    const { client } = await setup([
      rateLimited({ 'retry-after-ms': '5', 'x-ratelimit-remaining-requests': '0' }),
      json(200, openAiReply('ok'), { 'x-ratelimit-remaining-requests': '7', 'x-ratelimit-remaining-tokens': '1200' }),
    ]);
    expect(await client.send(request)).toMatchObject({ ok: true, rateLimit: { remainingRequests: 7, remainingTokens: 1200 } });
  });
});
