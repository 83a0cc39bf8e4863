import { describe, expect, it } from 'vitest';
import { classifyNetworkError, classifyStatus, displayUrl, parseErrorBody, parseRateLimit, redact } from '../../src/upstream/index.js';

describe('classification', () => {
  it('maps statuses to failure classes', () => {
    expect(classifyStatus(408, {})).toBe('timeout');
    expect(classifyStatus(401, {})).toBe('auth');
    expect(classifyStatus(403, {})).toBe('auth');
    expect(classifyStatus(429, { code: 'rate_limit_exceeded' })).toBe('rate_limited');
    expect(classifyStatus(429, { code: 'insufficient_quota' })).toBe('quota');
    expect(classifyStatus(429, { type: 'insufficient_quota' })).toBe('quota');
    for (const status of [500, 502, 503, 504, 529]) expect(classifyStatus(status, {})).toBe('server_error');
    for (const status of [400, 404, 409, 413, 422]) expect(classifyStatus(status, {})).toBe('client_error');
    expect(classifyStatus(301, {})).toBe('bad_response');
  });

  it('reads OpenAI, Anthropic and plain error bodies', () => {
    expect(parseErrorBody('{"error":{"message":"m","type":"t","param":null,"code":"c"}}')).toEqual({ message: 'm', type: 't', code: 'c' });
    // Terminal escapes in an upstream's message are dropped before it can reach a terminal.
    expect(parseErrorBody(JSON.stringify({ error: { message: 'bad \u001b[31mred\u001b]0;pwned\u0007 request' } })).message).toBe(
      'bad [31mred ]0;pwned request',
    );
    expect(parseErrorBody('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}')).toEqual({
      message: 'Overloaded',
      type: 'overloaded_error',
      code: undefined,
    });
    expect(parseErrorBody('{"error":"model not found"}')).toEqual({ message: 'model not found' });
    expect(parseErrorBody('upstream connect error')).toEqual({ message: 'upstream connect error' });
    expect(parseErrorBody('<html><body>502 Bad Gateway</body></html>')).toEqual({});
    expect(parseErrorBody('x'.repeat(500)).message).toHaveLength(200);
  });

  it('classifies network errors by code', () => {
    const coded = (code: string) => Object.assign(new Error(code), { code });
    expect(classifyNetworkError(coded('ECONNREFUSED'), 1000)).toEqual({ failure: 'connection', reason: 'ECONNREFUSED' });
    expect(classifyNetworkError(coded('UND_ERR_SOCKET'), 1000)).toEqual({ failure: 'connection', reason: 'UND_ERR_SOCKET' });
    expect(classifyNetworkError(coded('ENOTFOUND'), 1000)).toEqual({ failure: 'connection', reason: 'ENOTFOUND' });
    expect(classifyNetworkError(coded('UND_ERR_CONNECT_TIMEOUT'), 2500)).toEqual({ failure: 'connection', reason: 'connect timed out after 2.5s' });
    expect(classifyNetworkError(new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')]), 1000)).toEqual({
      failure: 'connection',
      reason: 'ECONNREFUSED',
    });
    expect(classifyNetworkError(coded('UND_ERR_INVALID_ARG'), 1000).failure).toBe('client_error');
  });

  it('parses rate-limit headers from either vendor', () => {
    expect(parseRateLimit({ 'x-ratelimit-remaining-requests': '10', 'x-ratelimit-remaining-tokens': '2000' })).toEqual({
      remainingRequests: 10,
      remainingTokens: 2000,
    });
    expect(parseRateLimit({ 'anthropic-ratelimit-requests-remaining': '3' })).toEqual({ remainingRequests: 3 });
    expect(parseRateLimit({ 'x-ratelimit-remaining-requests': 'lots' })).toBeUndefined();
    expect(parseRateLimit({})).toBeUndefined();
  });

  it('keeps secrets out of messages and URLs', () => {
    expect(redact('key sk-abc123 and again sk-abc123', ['sk-abc123'])).toBe('key [redacted] and again [redacted]');
    expect(redact('nothing here', [undefined, ''])).toBe('nothing here');
    expect(displayUrl(new URL('https://user:pass@relay.example.com/v1/chat/completions?key=secret'))).toBe('https://relay.example.com/v1/chat/completions');
  });
});
