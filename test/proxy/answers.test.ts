// What the upstream receives and what the proxy reads back: the application's body bytes with only the model
// replaced, and answers read whole only up to max_response_bytes.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY } from './helpers.js';

const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
type ApiError = InstanceType<typeof OpenAI.APIError>;

async function post(url: string, body: string): Promise<number> {
  const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  return res.status;
}

describe('request bodies', () => {
  it("sends the application's bytes with only the model's value replaced (nested model keys untouched)", async () => {
    const scripted = await scriptedServer((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion((JSON.parse(body) as { model: string }).model, 'ok'));
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    // Spacing, key order, escapes and a nested "model" the application wrote: kept byte for byte.
    const sent =
      '{ "messages": [{"role":"user","content":"caf\\u00e9 \\"model\\": x"}], "metadata": {"model": "blue-model"},\n "model" : "blue-model", "temperature": 0.50 }';
    setRoute(running.proxy, 1);
    expect(await post(running.baseUrl, sent)).toBe(200);
    expect(scripted.seen.at(-1)?.body).toBe(sent.replace(' "model" : "blue-model"', ' "model" : "green-model"'));
    setRoute(running.proxy, 0);
    expect(await post(running.baseUrl, sent)).toBe(200);
    expect(scripted.seen.at(-1)?.body).toBe(sent);
    // An escaped top-level key cannot be placed by the scan: parsed and re-serialised, model still replaced.
    setRoute(running.proxy, 1);
    expect(await post(running.baseUrl, '{"mod\\u0065l":"blue-model","messages":[]}')).toBe(200);
    expect(JSON.parse(scripted.seen.at(-1)?.body ?? '')).toEqual({ model: 'green-model', messages: [] });
  });
});

describe('max_response_bytes', () => {
  it('fails a larger non-streamed answer as bad_response (502, counted) without reading it all; blue answers for green', async () => {
    const big = openAiCompletion('m', 'x'.repeat(50_000));
    const scripted = await scriptedServer((_req, res, body) => {
      const { model } = JSON.parse(body) as { model: string };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(model === 'green-model' ? big : openAiCompletion(model, 'small'));
    });
    let running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ fallback: false, limits: { max_response_bytes: 10000 } }' }), {
      env: { UPSTREAM_KEY },
    });
    setRoute(running.proxy, 1);
    const failed = (await client(running.baseUrl)
      .chat.completions.create({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e)) as ApiError;
    expect(failed.status).toBe(502);
    expect(failed.message).toContain('max_response_bytes');
    expect(failed.headers?.get('x-bluegreen-arm')).toBe('green');
    const green = running.proxy.metrics.snapshot().arms.green;
    expect(green.failuresByClass.bad_response).toBe(1);
    await running.close();

    running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { max_response_bytes: 10000 } }' }), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const { data, response } = await client(running.baseUrl)
      .chat.completions.create({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('small');
    expect(response.headers.get('x-bluegreen-fallback')).toBe('true');
    expect(running.proxy.metrics.snapshot().fallbacks).toBe(1);
  });

  it('caps the model list the same way', async () => {
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: Array.from({ length: 500 }, (_, i) => ({ id: `model-${i}`, object: 'model' })) }));
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { max_response_bytes: 2000 } }' }), { env: { UPSTREAM_KEY } });
    const listed = await fetch(`${running.baseUrl}/models`);
    expect(listed.status).toBe(502);
    expect(((await listed.json()) as { error: { message: string } }).error.message).toContain('max_response_bytes');
  });
});
