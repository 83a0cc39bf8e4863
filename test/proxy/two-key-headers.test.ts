// lows30: an Anthropic proxy reads the client key from x-api-key or Authorization: Bearer. With both carrying different
// keys it took x-api-key in silence (a right key beside a wrong one passed, and another hop may read the other):
// such a request is refused 401 in Anthropic's shape. Either alone, or the same key in both, is served.
import { describe, expect, it } from 'vitest';
import { completionServer, rawExchange, runProxy, scriptedPlan, setRoute, UPSTREAM_KEY } from './helpers.js';

const KEY = 'client-key-0123456789abcdef';
const OTHER = 'client-key-fedcba9876543210';
const BODY = '{"model":"blue-model","max_tokens":5,"messages":[]}';

const post = (lines: readonly string[], path = '/v1/messages'): string =>
  `POST ${path} HTTP/1.1\r\n${['Host: 127.0.0.1', ...lines].join('\r\n')}\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`;
const bodyOf = (answer: string): unknown => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

describe('an Anthropic request carrying x-api-key and Authorization', () => {
  it('is refused 401 when they name different keys, whichever is right, on chat and the model list; never forwarded', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url, { api: 'anthropic', proxy: '{ client_keys_env: CLIENT_KEYS }' }), {
      env: { UPSTREAM_KEY, CLIENT_KEYS: `${KEY},${OTHER}` },
    });
    setRoute(running.proxy, 0);
    const port = running.proxy.port;
    const message = 'the request carries a client key in both x-api-key and Authorization, and they differ; send one';
    for (const keys of [
      [`x-api-key: ${KEY}`, 'Authorization: Bearer wrong-key-0123456789'],
      ['x-api-key: wrong-key-0123456789', `Authorization: Bearer ${KEY}`],
      // Both configured keys: still two keys, one request.
      [`x-api-key: ${KEY}`, `Authorization: Bearer ${OTHER}`],
    ]) {
      const answer = await rawExchange(port, post(keys));
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(bodyOf(answer)).toEqual({ type: 'error', error: { type: 'authentication_error', message } });
      const models = await rawExchange(port, `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n${keys.join('\r\n')}\r\nConnection: close\r\n\r\n`);
      expect(models).toMatch(/^HTTP\/1\.1 401 /);
    }
    expect(scripted.seen).toHaveLength(0);
    expect(running.proxy.metrics.snapshot().rejected.unauthorized).toBe(6);
    // Either alone, and the same key in both, as ever.
    for (const keys of [[`x-api-key: ${KEY}`], [`Authorization: Bearer ${KEY}`], [`x-api-key: ${KEY}`, `Authorization: Bearer ${KEY}`]]) {
      expect(await rawExchange(port, post(keys))).toMatch(/^HTTP\/1\.1 200 /);
    }
  });
});
