// The application's other model endpoints go to blue's upstream, so an application changes only its base URL:
// OpenAI embeddings, moderations and legacy completions, Anthropic's token count. Never split, never read, and
// held to proxy.passthrough like any other model.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY, type Scripted } from './helpers.js';

const openai = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'app-key', maxRetries: 0 });
const EMBEDDING = {
  object: 'list',
  data: [{ object: 'embedding', index: 0, embedding: [0.25, -0.5, 1] }],
  model: 'text-embedding-3-small',
  usage: { prompt_tokens: 2, total_tokens: 2 },
};

/** An upstream answering each relayed path as the provider would. */
function relayUpstream(): Promise<Scripted> {
  return scriptedServer((req, res, body) => {
    if (req.url === '/v1/embeddings') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req-embed' });
      return res.end(JSON.stringify(EMBEDDING));
    }
    if (req.url === '/v1/completions' && (JSON.parse(body) as { stream?: boolean }).stream) {
      // A legacy completion stream: not a chat stream, so a chat reader would find it bad; it passes unread.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"id":"cmpl-1","object":"text_completion","choices":[{"text":"Hel","index":0}]}\n\n');
      return res.end('data: {"id":"cmpl-1","object":"text_completion","choices":[{"text":"lo","index":0}]}\n\ndata: [DONE]\n\n');
    }
    if (req.url === '/v1/moderations') {
      // Upstream errors pass as they are, status and body.
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      return res.end(JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error', code: null, param: null } }));
    }
    if (req.url === '/v1/messages/count_tokens') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ input_tokens: 11 }));
    }
    res.writeHead(404).end();
  });
}

describe('a request to one of the dialect’s other model endpoints', () => {
  it('reaches blue’s upstream with the operator’s key (never the application’s), and its answer passes as it is', async () => {
    const upstream = await relayUpstream();
    const running = await runProxy(scriptedPlan(upstream.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const { data, response } = await openai(running.baseUrl)
      .embeddings.create({ model: 'text-embedding-3-small', input: 'hello', encoding_format: 'float' })
      .withResponse();
    expect(data.data[0]?.embedding).toEqual([0.25, -0.5, 1]);
    expect(response.headers.get('x-bluegreen-arm')).toBe('blue');
    expect(response.headers.get('x-request-id')).toBe('req-embed');
    const seen = upstream.seen.at(-1);
    expect(seen?.path).toBe('/v1/embeddings');
    expect(seen?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.parse(seen?.body ?? '{}')).toMatchObject({ model: 'text-embedding-3-small', input: 'hello' });
    const figures = running.proxy.metrics.snapshot();
    expect(figures.passedThrough).toBe(1);
    // Not either arm's request: nothing for a rollout to judge.
    expect(figures.arms.blue.requests + figures.arms.green.requests).toBe(0);
  });

  it('passes a stream through unread, chunk by chunk, and an upstream error with its status and body', async () => {
    const upstream = await relayUpstream();
    const running = await runProxy(scriptedPlan(upstream.url), { env: { UPSTREAM_KEY } });
    const stream = await openai(running.baseUrl).completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello', stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('Hello');
    const error = await openai(running.baseUrl)
      .moderations.create({ model: 'omni-moderation-latest', input: 'hi' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain('slow down');
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('7');
  });

  it('is refused for a model proxy.passthrough does not list (404), and for the model under rollout (400): never forwarded', async () => {
    const upstream = await relayUpstream();
    const running = await runProxy(scriptedPlan(upstream.url, { proxy: '{ passthrough: [text-embedding-3-small] }' }), { env: { UPSTREAM_KEY } });
    const refused = await openai(running.baseUrl)
      .embeddings.create({ model: 'text-embedding-3-large', input: 'hello' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).code).toBe('model_not_found');
    // The model under rollout on a path that does not split it would be answered by blue, unjudged: refused.
    const unsplit = await openai(running.baseUrl)
      .completions.create({ model: 'blue-model', prompt: 'hi' })
      .catch((e: unknown) => e);
    expect(unsplit).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unsplit as InstanceType<typeof OpenAI.APIError>).message).toContain(
      '"blue-model" is the model under rollout: this proxy splits it on POST /v1/chat/completions and POST /v1/responses only',
    );
    expect(upstream.seen).toHaveLength(0);
    const allowed = await openai(running.baseUrl).embeddings.create({ model: 'text-embedding-3-small', input: 'hello', encoding_format: 'float' });
    expect(allowed.data).toHaveLength(1);
  });

  it('is a 404 naming what the proxy serves when the path is not one it relays', async () => {
    const upstream = await relayUpstream();
    const running = await runProxy(scriptedPlan(upstream.url), { env: { UPSTREAM_KEY } });
    const res = await fetch(`${running.baseUrl}/files`, { method: 'POST', body: '{"model":"x"}' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'this proxy serves POST /v1/chat/completions, POST /v1/responses, POST /v1/embeddings, POST /v1/moderations, POST /v1/completions, POST /v1/responses/input_tokens, GET/DELETE /v1/responses/{id} (its /cancel, /input_items), /v1/conversations, GET /v1/models (and /v1/models/{id}), GET /metrics and GET /healthz, not POST /v1/files',
    );
    const get = await fetch(`${running.baseUrl}/embeddings`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(upstream.seen).toHaveLength(0);
  });
});

describe('an Anthropic token count', () => {
  it('goes to blue with blue’s model, the model under rollout (or its alias) included, at any weight', async () => {
    const upstream = await relayUpstream();
    const running = await runProxy(scriptedPlan(upstream.url, { api: 'anthropic', proxy: '{ alias: app-model }' }), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const client = new Anthropic({ baseURL: running.proxy.url, apiKey: 'app-key', maxRetries: 0 });
    const counted = await client.messages.countTokens({ model: 'app-model', messages: [{ role: 'user', content: 'hello there' }] });
    expect(counted.input_tokens).toBe(11);
    const seen = upstream.seen.at(-1);
    expect(seen?.path).toBe('/v1/messages/count_tokens');
    expect(seen?.headers['x-api-key']).toBe(UPSTREAM_KEY);
    expect(JSON.parse(seen?.body ?? '{}')).toMatchObject({ model: 'blue-model', messages: [{ role: 'user', content: 'hello there' }] });
  });
});

describe('a relayed answer that quotes the upstream key', () => {
  it('reaches the client with the key cut out, a success streamed through and an error alike', async () => {
    const upstream = await scriptedServer((req, res) => {
      const echoed = String(req.headers.authorization);
      res.writeHead(req.url === '/v1/embeddings' ? 200 : 400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `you sent ${echoed}` }, object: 'list', data: [] }));
    });
    const running = await runProxy(scriptedPlan(upstream.url), { env: { UPSTREAM_KEY } });
    for (const path of ['/embeddings', '/moderations']) {
      const res = await fetch(`${running.baseUrl}${path}`, { method: 'POST', body: '{"model":"text-embedding-3-small","input":"x"}' });
      const text = await res.text();
      expect(text).toContain('you sent Bearer ');
      expect(text).not.toContain(UPSTREAM_KEY.slice(0, 12));
    }
  });
});

describe('relayed paths on Azure', () => {
  it('go beside the chat path on the v1 path (with its api-version), and are not served on the deployments path', async () => {
    const upstream = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(EMBEDDING));
    });
    const origin = upstream.url.replace(/\/v1$/, '');
    const azurePlan = (base: string, version: string) =>
      scriptedPlan(upstream.url).replace(`base_url: ${upstream.url}, api: openai`, `base_url: ${base}, api: azure${version}`);
    const v1 = await runProxy(azurePlan(`${origin}/openai/v1`, ''), { env: { UPSTREAM_KEY } });
    const res = await fetch(`${v1.baseUrl}/embeddings`, { method: 'POST', body: '{"model":"text-embedding-3-small","input":"x"}' });
    expect(res.status).toBe(200);
    expect(upstream.seen.at(-1)?.path).toBe('/openai/v1/embeddings');
    expect(upstream.seen.at(-1)?.headers['api-key']).toBe(UPSTREAM_KEY);
    const deployments = await runProxy(azurePlan(origin, ', api_version: 2024-10-21'), { env: { UPSTREAM_KEY } });
    const refused = await fetch(`${deployments.baseUrl}/embeddings`, { method: 'POST', body: '{"model":"text-embedding-3-small","input":"x"}' });
    expect(refused.status).toBe(404);
    expect(upstream.seen).toHaveLength(1);
  });
});

describe('a relayed request whose client goes away', () => {
  it('cancels the upstream request', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    let arrived!: () => void;
    const atUpstream = new Promise<void>((resolve) => (arrived = resolve));
    const upstream = await scriptedServer((_req, res) => {
      res.on('close', () => upstreamClosed());
      arrived();
    });
    const running = await runProxy(scriptedPlan(upstream.url), { env: { UPSTREAM_KEY } });
    const abort = new AbortController();
    const request = fetch(`${running.baseUrl}/embeddings`, { method: 'POST', body: '{"model":"text-embedding-3-small","input":"x"}', signal: abort.signal });
    await atUpstream;
    abort.abort();
    await expect(request).rejects.toThrow();
    // The upstream saw its request closed: the proxy cancelled it rather than waiting for an answer.
    await closed;
  });
});
