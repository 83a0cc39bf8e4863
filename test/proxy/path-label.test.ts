// /metrics names the split path of each request and failure (path="chat" | "responses"): a green failing on the
// Responses API only shows there. The official openai SDK as the application, a scripted upstream.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { responseObject, textItem } from './responses-fixtures.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute, simPlan, UPSTREAM_KEY, type Running } from './helpers.js';
import { until } from '../helpers/until.js';

async function scrape(running: Running): Promise<string> {
  return (await fetch(`${running.proxy.url}/metrics`)).text();
}

describe('the path label', () => {
  it('splits requests and failures by path, mirror copies and fallbacks included', async () => {
    const upstream = await scriptedServer((req, res, body) => {
      const { model } = JSON.parse(body) as { model: string };
      if (req.url?.endsWith('/responses') && model === 'green-model') {
        res.writeHead(503, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'down', type: 'server_error', param: null, code: null } }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      if (!req.url?.endsWith('/responses')) return res.end(openAiCompletion(model, 'fine'));
      res.end(JSON.stringify(responseObject('resp_1', model, 'completed', [textItem('fine')])));
    });
    const running = await runProxy(scriptedPlan(upstream.url), { env: { UPSTREAM_KEY } });
    const openai = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
    setRoute(running.proxy, 1);
    await openai.chat.completions.create({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] });
    // Green fails on /responses and blue answers for it.
    const { response } = await openai.responses.create({ model: 'blue-model', input: 'hi' }).withResponse();
    expect(response.headers.get('x-bluegreen-fallback')).toBe('true');
    // A shadow stage: blue answers, green gets a copy that fails.
    setRoute(running.proxy, 0, 1);
    await openai.responses.create({ model: 'blue-model', input: 'hi' });
    await until(() => running.proxy.metrics.snapshot().arms.green.requests === 3, 'the mirror copy judged');
    const text = await scrape(running);
    const value = (series: string) => new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(text)?.[1];
    expect(value('bluegreen_proxy_requests_total{arm="green",path="chat"}')).toBe('1');
    expect(value('bluegreen_proxy_requests_total{arm="green",path="responses"}')).toBe('2');
    expect(value('bluegreen_proxy_requests_total{arm="blue",path="responses"}')).toBe('2');
    expect(value('bluegreen_proxy_requests_total{arm="blue",path="chat"}')).toBe('0');
    expect(value('bluegreen_proxy_failures_total{arm="green",class="server_error",path="responses"}')).toBe('2');
    expect(value('bluegreen_proxy_failures_total{arm="green",class="server_error",path="chat"}')).toBe('0');
  });

  it('has only path="chat" where the proxy serves no Responses API (an Anthropic plan)', async () => {
    const running = await runProxy(simPlan({ api: 'anthropic' }));
    const text = await scrape(running);
    expect(text).toContain('bluegreen_proxy_requests_total{arm="blue",path="chat"} 0');
    expect(text).not.toContain('path="responses"');
  });
});
