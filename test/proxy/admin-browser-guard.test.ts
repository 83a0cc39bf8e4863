// lows30: the admin API on loopback keeps web pages out as a keyless proxy's own port does (browser-guard.ts): a
// DNS-rebound page names its own host, a cross-site one sends its Origin. The token stays required after the guard.
import { describe, expect, it } from 'vitest';
import { rawExchange, runProxy, scriptedPlan, UPSTREAM_KEY } from './helpers.js';

const TOKEN = 'admin-token-0123456789abcdef';
const ROUTE = '{"greenWeight":1,"mirror":0,"ttlMs":60000}';

/** A PUT of ROUTE with the token and the given header lines, in `version` (HTTP/1.1 unless told). */
function put(lines: readonly string[], version = '1.1'): string {
  return `PUT /admin/route HTTP/${version}\r\n${[...lines, `Authorization: Bearer ${TOKEN}`].join('\r\n')}\r\nContent-Type: application/json\r\nContent-Length: ${ROUTE.length}\r\nConnection: close\r\n\r\n${ROUTE}`;
}

const statusOf = (answer: string): number => Number(/^HTTP\/1\.[01] (\d{3}) /.exec(answer)?.[1]);
const bodyOf = (answer: string): { error: string } => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: string };

describe('the admin API on loopback, called from a web page with the token', () => {
  it('refuses a foreign Host (DNS rebinding), a foreign Origin, a request without Host and two Hosts, and sets no route', async () => {
    const running = await runProxy(scriptedPlan('http://127.0.0.1:9/v1', { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), {
      env: { UPSTREAM_KEY, ADMIN_TOKEN: TOKEN },
    });
    const port = Number(new URL(running.proxy.adminUrl as string).port);
    const rebound = await rawExchange(port, put([`Host: evil.example:${port}`, `Origin: http://evil.example:${port}`]));
    expect(statusOf(rebound)).toBe(403);
    expect(bodyOf(rebound).error).toBe(
      `the admin API listens on loopback, so it only answers requests addressed to a loopback name (Host: localhost, localhost. or 127.0.0.1), not "evil.example:${port}"; call it by 127.0.0.1 or localhost (a TLS terminator forwarding to it: have it send Host: 127.0.0.1), not from a web page`,
    );
    const crossSite = await rawExchange(port, put([`Host: 127.0.0.1:${port}`, 'Origin: https://evil.example']));
    expect(statusOf(crossSite)).toBe(403);
    expect(bodyOf(crossSite).error).toContain('so it refuses requests from web pages of other origins ("https://evil.example")');
    const hostless = await rawExchange(port, put([], '1.0'));
    expect(statusOf(hostless)).toBe(403);
    expect(bodyOf(hostless).error).toContain('not a request without a Host header');
    const twoHosts = await rawExchange(port, put(['Host: 127.0.0.1', 'Host: evil.example']));
    expect(statusOf(twoHosts)).toBe(400);
    expect(bodyOf(twoHosts).error).toBe('the request carries more than one Host header; send one');
    expect(running.proxy.route.effective().greenWeight).toBe(0);
    // Its own callers name a loopback address (bluegreen's admin client: the URL the proxy printed), as ever.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      running.proxy.route.set({ greenWeight: 0, mirror: 0 });
      expect(statusOf(await rawExchange(port, put([`Host: ${host}`, `Origin: http://${host}`])))).toBe(200);
      expect(running.proxy.route.effective().greenWeight).toBe(1);
    }
    // The token is still asked after the guard.
    const noToken = await rawExchange(port, `GET /admin/route HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(statusOf(noToken)).toBe(401);
  });
});
