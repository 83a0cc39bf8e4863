// An upstream answering 200 with an error that quotes the proxy's key (an echoing relay): the application gets
// the body redacted, and so do the results feed and the figures a rollout reads (a rollout on another machine
// does not know the key, and would write it into its state, journal and reports).
import { describe, expect, it } from 'vitest';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

describe("an upstream error quoting the proxy's key", () => {
  it('reaches neither the client nor the results feed nor the figures', async () => {
    const scripted = await scriptedServer((_req, res, body) => {
      const stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
      const error = JSON.stringify({ error: { message: `Incorrect API key provided: ${UPSTREAM_KEY}`, type: 'invalid_request_error' } });
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      res.end(stream ? `data: ${error}\n\n` : error);
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
    const seen: string[] = [];
    for (const stream of [false, true]) {
      const answer = await fetch(`${running.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'blue-model', stream, messages: [{ role: 'user', content: 'hi' }] }),
      });
      seen.push(await answer.text());
    }
    const admin = (path: string) =>
      fetch(`${running.proxy.adminUrl as string}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
    const feed = await admin('/admin/results?after=0');
    const figures = await admin('/admin/figures');
    // Both failures were recorded, with the upstream's message, its key cut out.
    expect((JSON.parse(feed) as { results: unknown[] }).results).toHaveLength(2);
    expect(feed).toContain('Incorrect API key provided: [redacted]');
    expect(figures).toContain('[redacted]');
    for (const text of [...seen, feed, figures]) expect(text).not.toContain(UPSTREAM_KEY.slice(0, 12));
  });
});
