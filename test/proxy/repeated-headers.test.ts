// lows29: a request carrying Host, or its credential, twice. Node keeps the first of each (req.headers), so the
// keyless proxy's browser guard passed `Host: 127.0.0.1` then `Host: evil.example`. Raw requests on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { completionServer, rawExchange, runProxy, scriptedPlan, setRoute, UPSTREAM_KEY } from './helpers.js';

const BODY = '{"model":"blue-model","messages":[]}';

/** A chat POST with the given header lines (each `Name: value`), closing its connection after the answer. */
function chatPost(lines: readonly string[], path = '/v1/chat/completions'): string {
  return `POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`;
}

/** The JSON body of a raw HTTP answer. */
const bodyOf = (answer: string): unknown => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

describe('a request carrying more than one Host header', () => {
  it('is answered 400 in the dialect’s shape (RFC 9112 3.2) and never forwarded, whichever Host comes first', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const port = running.proxy.port;
    for (const hosts of [
      ['Host: 127.0.0.1', 'Host: evil.example'],
      ['host: 127.0.0.1', 'HOST: 127.0.0.1'],
    ]) {
      const answer = await rawExchange(port, chatPost(hosts));
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer.toLowerCase()).toContain('connection: close');
      expect(bodyOf(answer)).toEqual({
        error: { message: 'the request carries more than one Host header; send one', type: 'invalid_request_error', param: null, code: null },
      });
    }
    expect(scripted.seen).toHaveLength(0);
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(2);
    // One Host, as ever.
    expect(await rawExchange(port, chatPost(['Host: 127.0.0.1']))).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('is refused by a proxy with client keys too, in the Anthropic shape for an Anthropic proxy', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const key = 'client-key-0123456789abcdef';
    const running = await runProxy(scriptedPlan(scripted.url, { api: 'anthropic', proxy: '{ client_keys_env: CLIENT_KEYS }' }), {
      env: { UPSTREAM_KEY, CLIENT_KEYS: key },
    });
    const answer = await rawExchange(running.proxy.port, chatPost(['Host: a.example', `x-api-key: ${key}`, 'Host: b.example'], '/v1/messages'));
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(answer)).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'the request carries more than one Host header; send one' },
    });
    expect(scripted.seen).toHaveLength(0);
  });
});

describe('a credential header sent more than once', () => {
  const key = 'client-key-0123456789abcdef';
  const admin = 'admin-token-0123456789abcdef';

  it('is refused 401 by a proxy with client keys (chat, model list, /metrics), whichever comes first, never forwarded', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ client_keys_env: CLIENT_KEYS, admin: { token_env: ADMIN_TOKEN } }' }), {
      env: { UPSTREAM_KEY, CLIENT_KEYS: key, ADMIN_TOKEN: admin },
    });
    setRoute(running.proxy, 0);
    const port = running.proxy.port;
    const message = 'the request carries more than one authorization header; send the client key once';
    for (const keys of [
      [`Authorization: Bearer ${key}`, 'Authorization: Bearer wrong-key-0123456789'],
      ['authorization: Bearer wrong-key-0123456789', `AUTHORIZATION: Bearer ${key}`],
    ]) {
      const answer = await rawExchange(port, chatPost(['Host: 127.0.0.1', ...keys]));
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(bodyOf(answer)).toMatchObject({ error: { message, code: 'invalid_api_key' } });
      for (const path of ['/v1/models', '/metrics']) {
        const read = await rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${keys.join('\r\n')}\r\nConnection: close\r\n\r\n`);
        expect(read).toMatch(/^HTTP\/1\.1 401 /);
        expect(bodyOf(read)).toMatchObject({ error: { message } });
      }
    }
    expect(scripted.seen).toHaveLength(0);
    expect(running.proxy.metrics.snapshot().rejected.unauthorized).toBe(6);
    // The key once, as ever.
    expect(await rawExchange(port, chatPost(['Host: 127.0.0.1', `Authorization: Bearer ${key}`]))).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('is refused 401 by an Anthropic proxy for x-api-key as for Authorization', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url, { api: 'anthropic', proxy: '{ client_keys_env: CLIENT_KEYS }' }), {
      env: { UPSTREAM_KEY, CLIENT_KEYS: key },
    });
    const port = running.proxy.port;
    for (const [keys, header] of [
      [[`x-api-key: ${key}`, 'X-Api-Key: wrong-key-0123456789'], 'x-api-key'],
      [[`Authorization: Bearer ${key}`, 'Authorization: Bearer wrong-key-0123456789'], 'authorization'],
    ] as const) {
      const answer = await rawExchange(port, chatPost(['Host: 127.0.0.1', ...keys], '/v1/messages'));
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(bodyOf(answer)).toEqual({
        type: 'error',
        error: { type: 'authentication_error', message: `the request carries more than one ${header} header; send the client key once` },
      });
    }
    expect(scripted.seen).toHaveLength(0);
  });

  it('is refused 401 by the admin API: the right token then a wrong one sets no route', async () => {
    const running = await runProxy(scriptedPlan('http://127.0.0.1:9/v1', { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), {
      env: { UPSTREAM_KEY, ADMIN_TOKEN: admin },
    });
    const port = Number(new URL(running.proxy.adminUrl as string).port);
    const route = '{"greenWeight":1,"mirror":0,"ttlMs":60000}';
    const put = (tokens: readonly string[]) =>
      rawExchange(
        port,
        `PUT /admin/route HTTP/1.1\r\nHost: 127.0.0.1\r\n${tokens.map((token) => `Authorization: Bearer ${token}`).join('\r\n')}\r\nContent-Type: application/json\r\nContent-Length: ${route.length}\r\nConnection: close\r\n\r\n${route}`,
      );
    for (const tokens of [
      [admin, 'wrong-token-0123456789'],
      ['wrong-token-0123456789', admin],
    ]) {
      const answer = await put(tokens);
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(bodyOf(answer)).toEqual({ error: 'the request carries more than one Authorization header; send the admin token once' });
    }
    expect(running.proxy.route.effective().greenWeight).toBe(0);
    expect(await put([admin])).toMatch(/^HTTP\/1\.1 200 /);
    expect(running.proxy.route.effective().greenWeight).toBe(1);
  });
});
