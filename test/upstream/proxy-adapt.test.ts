// The live proxy applies each arm's request adaptation too: an application written for gpt-4.1 (max_tokens,
// temperature) is served by a reasoning-model green without a 400, the OpenAI SDK as the application.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { runProxy, setRoute } from '../proxy/helpers.js';
import { startOpenAiLike } from './provider-servers.js';

const KEY = 'sk-proxy-adapt-9999';

describe('proxy request adaptation', () => {
  it('sends green (gpt-5-mini) max_completion_tokens and no temperature; blue (gpt-4.1) gets the body as sent', async () => {
    const server = await startOpenAiLike({ key: KEY, models: ['gpt-4.1', 'gpt-5-mini'] });
    const running = await runProxy(
      `
name: proxy-adapt
upstream: { base_url: ${server.base}, api_key_env: UPSTREAM_KEY, retries: { max: 0 } }
blue: { model: gpt-4.1 }
green: { model: gpt-5-mini, request: { reasoning_effort: minimal } }
traffic: { rate: 1 }
stages: [{ duration: 1m, green_weight: 0.5 }]
`,
      { env: { UPSTREAM_KEY: KEY } },
    );
    const openai = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const ask = { model: 'gpt-4.1', max_tokens: 50, temperature: 0.3, messages: [{ role: 'user' as const, content: 'Is my router broken?' }] };

    setRoute(running.proxy, 1);
    const { data, response } = await openai.chat.completions.create(ask).withResponse();
    expect(response.headers.get('x-bluegreen-arm')).toBe('green');
    expect(data.choices[0]?.message.content).toContain('Restart the router');
    const green = server.requests.at(-1)?.json;
    expect(green).toMatchObject({ model: 'gpt-5-mini', max_completion_tokens: 50, reasoning_effort: 'minimal' });
    expect(green).not.toHaveProperty('max_tokens');
    expect(green).not.toHaveProperty('temperature');

    setRoute(running.proxy, 0);
    const blue = await openai.chat.completions.create(ask).withResponse();
    expect(blue.response.headers.get('x-bluegreen-arm')).toBe('blue');
    expect(server.requests.at(-1)?.json).toMatchObject({ model: 'gpt-4.1', max_tokens: 50, temperature: 0.3 });
  });
});
