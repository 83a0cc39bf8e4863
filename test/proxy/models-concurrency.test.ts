// GET /v1/models is an upstream request made with the operator's key: it counts against max_concurrency like
// a chat request, and a client that goes away cancels it. /healthz and /metrics are answered from memory and
// stay outside the limit, so they still answer while the proxy is full.
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

const MODELS = JSON.stringify({ object: 'list', data: [{ id: 'blue-model', object: 'model' }] });

/** An upstream whose model list waits until the test releases it; chats are answered at once. */
async function slowModels() {
  const held: ServerResponse[] = [];
  const closed: string[] = [];
  const scripted = await scriptedServer((req, res) => {
    if (req.url?.endsWith('/models')) {
      res.on('close', () => closed.push(req.url ?? ''));
      held.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(openAiCompletion('blue-model', 'ok'));
  });
  const release = () => {
    for (const res of held.splice(0)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(MODELS);
    }
  };
  return { scripted, held, closed, release };
}

describe('GET /v1/models and max_concurrency', () => {
  it('counts a model list in flight against the limit; /healthz and /metrics still answer', async () => {
    const upstream = await slowModels();
    const running = await runProxy(scriptedPlan(upstream.scripted.url, { proxy: '{ limits: { max_concurrency: 1 } }' }), { env: { UPSTREAM_KEY } });
    const first = fetch(`${running.baseUrl}/models`);
    await until(() => upstream.held.length === 1, 'the model list upstream');

    const second = await fetch(`${running.baseUrl}/models`);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('1');
    // The message names the setting, for an operator reading the application's logs.
    expect(await second.json()).toMatchObject({
      error: { code: 'proxy_overloaded', message: expect.stringContaining('its limit of 1 requests at once (proxy.limits.max_concurrency)') },
    });
    const chat = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"model":"blue-model","messages":[]}' });
    expect(chat.status).toBe(503);
    await chat.text();
    // Only one list reached the upstream: the refused one never left the proxy.
    expect(upstream.scripted.seen.filter((s) => s.path.endsWith('/models'))).toHaveLength(1);

    const health = await fetch(`${running.proxy.url}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { inFlight: number }).inFlight).toBe(1);
    const metrics = await fetch(`${running.proxy.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('bluegreen_proxy_rejected_total{reason="overloaded"} 2');

    upstream.release();
    const answer = await first;
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe(MODELS);
    // The slot is free again.
    const after = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"model":"blue-model","messages":[]}' });
    expect(after.status).toBe(200);
    await after.text();
  });

  it('cancels the upstream request when the client goes away, freeing its slot', async () => {
    const upstream = await slowModels();
    const running = await runProxy(scriptedPlan(upstream.scripted.url, { proxy: '{ limits: { max_concurrency: 1 } }' }), { env: { UPSTREAM_KEY } });
    const client = new AbortController();
    const gone = fetch(`${running.baseUrl}/models`, { signal: client.signal }).catch(() => undefined);
    await until(() => upstream.held.length === 1, 'the model list upstream');
    client.abort();
    await gone;
    await until(() => upstream.closed.length === 1, 'the upstream request cancelled');
    const health = (await (await fetch(`${running.proxy.url}/healthz`)).json()) as { inFlight: number };
    expect(health.inFlight).toBe(0);
  });
});
