// lows30: an HTTP/1.0 request may come without Host (RFC 9112 3.2 requires it of HTTP/1.1 only), and a keyless
// proxy's browser guard judges a request by its Host: one without is refused there (403), not let through unjudged.
// A proxy with client keys serves it (the key is the guard). Raw requests on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { completionServer, rawExchange, runProxy, scriptedPlan, setRoute, UPSTREAM_KEY } from './helpers.js';

const BODY = '{"model":"blue-model","messages":[]}';

/** An HTTP/1.0 chat POST with the given header lines (a 1.0 connection closes after its answer). */
const post10 = (lines: readonly string[]): string =>
  `POST /v1/chat/completions HTTP/1.0\r\n${[...lines, 'Content-Type: application/json', `Content-Length: ${BODY.length}`].join('\r\n')}\r\n\r\n${BODY}`;

describe('an HTTP/1.0 request without Host', () => {
  it('is refused 403 by a keyless proxy (its guard reads Host), never forwarded; with a loopback Host it is served', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const port = running.proxy.port;
    // Its first request, and one after a loopback Host was let through (the guard remembers the last one).
    for (const _ of [1, 2]) {
      const answer = await rawExchange(port, post10([]));
      expect(answer).toMatch(/^HTTP\/1\.1 403 /);
      expect(answer).toContain('this proxy asks no client key, so it only answers requests addressed to a loopback name');
      expect(answer).toContain('not a request without a Host header');
      expect(await rawExchange(port, post10(['Host: 127.0.0.1']))).toMatch(/^HTTP\/1\.1 200 /);
    }
    expect(scripted.seen).toHaveLength(2);
    expect(running.proxy.metrics.snapshot().rejected.unauthorized).toBe(2);
  });

  it('is served by a proxy with client keys', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const key = 'client-key-0123456789abcdef';
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ client_keys_env: CLIENT_KEYS }' }), { env: { UPSTREAM_KEY, CLIENT_KEYS: key } });
    setRoute(running.proxy, 0);
    expect(await rawExchange(running.proxy.port, post10([`Authorization: Bearer ${key}`]))).toMatch(/^HTTP\/1\.1 200 /);
  });
});
