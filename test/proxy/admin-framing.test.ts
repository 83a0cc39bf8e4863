// fixb33: the application's port refuses an HTTP/1.0 request with Transfer-Encoding (hostile-wire.test.ts); the
// admin API read its chunks, set the route and kept the connection for a request smuggled behind them. Both now
// share one check (framing.ts): 400 in the admin API's shape, the route untouched, the connection closed.
import { describe, expect, it } from 'vitest';
import { rawExchange, runProxy, scriptedPlan, UPSTREAM_KEY } from './helpers.js';

const TOKEN = 'admin-token-0123456789abcdef';
const ROUTE = '{"greenWeight":1,"mirror":0,"ttlMs":60000}';

describe('the admin API given an HTTP/1.0 request with Transfer-Encoding', () => {
  it('refuses it 400 and closes: no route is set, nothing pipelined behind it is served', async () => {
    const running = await runProxy(scriptedPlan('http://127.0.0.1:9/v1', { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), {
      env: { UPSTREAM_KEY, ADMIN_TOKEN: TOKEN },
    });
    const port = Number(new URL(running.proxy.adminUrl as string).port);
    const chunked = `${ROUTE.length.toString(16)}\r\n${ROUTE}\r\n0\r\n\r\n`;
    const smuggled = `GET /admin/route HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`;
    const answer = await rawExchange(
      port,
      `PUT /admin/route HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}${smuggled}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      error: 'an HTTP/1.0 request cannot use Transfer-Encoding (RFC 9112 6.1): send a content-length',
    });
    expect(running.proxy.route.effective().greenWeight).toBe(0);
  });
});
