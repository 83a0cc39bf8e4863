// An arm's request.params, written once in chat completions' spelling, reach each of the proxy's paths as that API
// spells them: `verbosity` is `text.verbosity` on /v1/responses (merged with the application's text.format), a
// parameter the Responses API lacks (`seed`) is left out there. The official openai SDK as the application.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { openAiCompletion, runProxy, scriptedServer, setRoute, UPSTREAM_KEY } from './helpers.js';
import { responseObject, textItem } from './responses-fixtures.js';

describe("an arm's request.params on both OpenAI paths", () => {
  it('are spelled for the Responses API on /v1/responses and sent as written on chat completions', async () => {
    const upstream = await scriptedServer((req, res, body) => {
      const { model } = JSON.parse(body) as { model: string };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        req.url?.endsWith('/responses') ? JSON.stringify(responseObject('resp_1', model, 'completed', [textItem('hello')])) : openAiCompletion(model, 'hello'),
      );
    });
    const plan = `
name: params-spelling
upstream: { base_url: ${upstream.url}, api: openai, api_key_env: UPSTREAM_KEY, timeout: { connect: 2s, request: 5s } }
blue:  { model: blue-model }
green: { model: green-model, request: { params: { verbosity: low, seed: 7 }, reasoning_effort: minimal } }
traffic: { rate: 1 }
stages:
  - { duration: 1m, green_weight: 0.5 }
proxy: {}
`;
    const running = await runProxy(plan, { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const openai = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const answer = await openai.responses.create({ model: 'blue-model', input: 'hi', text: { format: { type: 'text' } } });
    expect(answer.output_text).toBe('hello');
    await openai.chat.completions.create({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] });
    const [responses, chat] = upstream.seen.map((seen) => JSON.parse(seen.body) as Record<string, unknown>);
    expect(responses).toEqual({ model: 'green-model', input: 'hi', text: { format: { type: 'text' }, verbosity: 'low' }, reasoning: { effort: 'minimal' } });
    expect(chat).toMatchObject({ model: 'green-model', verbosity: 'low', seed: 7, reasoning_effort: 'minimal' });
    expect(running.proxy.metrics.snapshot().arms.green).toMatchObject({ requests: 2, successes: 2 });
  });
});
