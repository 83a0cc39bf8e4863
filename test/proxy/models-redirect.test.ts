// GET /v1/models: an upstream's redirect is never passed on, as for chat requests (a client following it would
// send its key wherever Location says). Real servers on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';

describe("blue's upstream answering a redirect to a model list", () => {
  it('is a 502 without the Location', async () => {
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(307, { location: 'http://127.0.0.1:9/elsewhere', 'content-type': 'text/plain' });
      res.end('moved');
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const res = await fetch(`${running.baseUrl}/models`, { redirect: 'manual' });
    expect([res.status, res.headers.get('location'), res.headers.get('x-bluegreen-arm')]).toEqual([502, null, 'blue']);
    expect(await res.text()).toContain('answered a redirect (307) listing models');
  });
});
