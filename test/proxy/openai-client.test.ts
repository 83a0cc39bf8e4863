// The official openai SDK as the application, through the proxy, against the simulator and scripted upstreams.
import OpenAI from 'openai';
import { createServer, request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { listenForTest } from '../helpers/loopback.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute, simPlan, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

const client = (baseURL: string, apiKey = 'unused') => new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const ask = { messages: [{ role: 'user' as const, content: 'hello there' }] };

describe('proxy with the OpenAI SDK', () => {
  it('answers a plain request from blue, says so, and counts it under blue', async () => {
    const running = await runProxy(simPlan());
    const { data, response } = await client(running.baseUrl)
      .chat.completions.create({ model: 'gpt-4o', ...ask })
      .withResponse();
    expect(response.headers.get('x-bluegreen-arm')).toBe('blue');
    expect(data.model).toBe('gpt-4o');
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const figures = running.proxy.metrics.snapshot();
    expect(figures.arms.blue.requests).toBe(1);
    expect(figures.arms.blue.successes).toBe(1);
    expect(figures.arms.blue.tokens.completion).toBe(data.usage?.completion_tokens);
    expect(figures.arms.green.requests).toBe(0);
  });

  it("rewrites the model to the arm's: at weight 1 a request for blue is served by green", async () => {
    const running = await runProxy(simPlan());
    setRoute(running.proxy, 1);
    const { data, response } = await client(running.baseUrl)
      .chat.completions.create({ model: 'gpt-4o', ...ask })
      .withResponse();
    expect(response.headers.get('x-bluegreen-arm')).toBe('green');
    expect(data.model).toBe('gpt-4.1');
    expect(running.endpoints.simulators[0]?.requestsByModel()).toEqual({ 'gpt-4.1': 1 });
  });

  it('streams chunk by chunk and reads TTFT, tokens and finish reason from the passing stream', async () => {
    const running = await runProxy(simPlan());
    const stream = await client(running.baseUrl).chat.completions.create({ model: 'gpt-4o', ...ask, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text.length).toBeGreaterThan(0);
    // Recorded once the upstream's stream has ended at the proxy, which may be just after the client's end.
    await until(() => running.proxy.metrics.snapshot().arms.blue.successes === 1, 'the stream recorded');
    const blue = running.proxy.metrics.snapshot().arms.blue;
    expect(blue.ttft?.count).toBe(1);
    expect(blue.tokens.completion).toBe(usage?.completion_tokens);
  });

  it("splits the plan's alias for the blue model like the blue model itself", async () => {
    const running = await runProxy(simPlan({ proxy: '{ alias: chat-default }' }));
    const openai = client(running.baseUrl);
    const asBlue = await openai.chat.completions.create({ model: 'chat-default', ...ask });
    expect(asBlue.model).toBe('gpt-4o');
    setRoute(running.proxy, 1);
    const asGreen = await openai.chat.completions.create({ model: 'chat-default', ...ask }).withResponse();
    expect(asGreen.data.model).toBe('gpt-4.1');
    expect(asGreen.response.headers.get('x-bluegreen-arm')).toBe('green');
    expect(running.proxy.metrics.snapshot().passedThrough).toBe(0);
  });

  it("passes other models through to blue's upstream untouched and keeps them out of the arms' figures", async () => {
    const running = await runProxy(simPlan());
    setRoute(running.proxy, 1);
    const { data, response } = await client(running.baseUrl)
      .chat.completions.create({ model: 'other-model', ...ask })
      .withResponse();
    expect(data.model).toBe('other-model');
    expect(response.headers.get('x-bluegreen-arm')).toBe('blue');
    const figures = running.proxy.metrics.snapshot();
    expect(figures.passedThrough).toBe(1);
    expect(figures.arms.blue.requests + figures.arms.green.requests).toBe(0);
  });

  it('passes an upstream error through with its status and body', async () => {
    const running = await runProxy(simPlan({ blue: 'error_rate: 1' }));
    const error = await client(running.baseUrl)
      .chat.completions.create({ model: 'gpt-4o', ...ask })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe('server_error');
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('x-bluegreen-arm')).toBe('blue');
    expect(running.proxy.metrics.snapshot().arms.blue.failuresByClass).toEqual({ server_error: 1 });
  });

  it('reaches the upstream through HTTP_PROXY when the environment sets it', async () => {
    const scripted = await scriptedServer((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion((JSON.parse(body) as { model: string }).model, 'via the forward proxy'));
    });
    const seen: string[] = [];
    // A plain forwarding proxy: the request line carries the absolute URL.
    const forwarder = createServer((req, res) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
      const target = new URL(req.url ?? '');
      const upstream = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    });
    const forwarding = await listenForTest(forwarder);
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY, HTTP_PROXY: `http://${forwarding}` } });
    const answer = await client(running.baseUrl).chat.completions.create({ model: 'blue-model', ...ask });
    expect(answer.choices[0]?.message.content).toBe('via the forward proxy');
    expect(seen).toContain(`POST ${scripted.url}/chat/completions`);
  });

  it("lists models from blue's upstream", async () => {
    const running = await runProxy(simPlan());
    const ids: string[] = [];
    for await (const model of client(running.baseUrl).models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o', 'gpt-4.1']));
  });

  it('retrieves a model by id as the list shows it: the model under rollout (its alias under its own name), others passed through, unknown 404', async () => {
    const running = await runProxy(simPlan({ proxy: '{ alias: [team-chat] }' }));
    const openai = client(running.baseUrl);
    const listed = new Map<string, unknown>();
    for await (const model of openai.models.list()) listed.set(model.id, model);
    const { data: blue, response } = await openai.models.retrieve('gpt-4o').withResponse();
    expect(response.headers.get('x-bluegreen-arm')).toBe('blue');
    expect(blue).toEqual(listed.get('gpt-4o'));
    // The alias is served as blue's model: its entry, under the name the application asked for.
    // (The simulator's entries carry Anthropic's display_name too: named after the alias as well.)
    expect(await openai.models.retrieve('team-chat')).toEqual({ ...(listed.get('gpt-4o') as object), id: 'team-chat', display_name: 'team-chat' });
    // Green's model and any other pass through to blue's upstream, as the list shows them.
    expect(await openai.models.retrieve('gpt-4.1')).toEqual(listed.get('gpt-4.1'));
    expect(await openai.models.retrieve('other-model')).toEqual(listed.get('other-model'));
    const unknown = await openai.models.retrieve('no-such-model').catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it("sends a model id to blue's upstream as one encoded path segment, and refuses an id that does not decode (404)", async () => {
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'openai/gpt-4o', object: 'model', created: 1, owned_by: 'relay' }));
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const model = await client(running.baseUrl).models.retrieve('openai/gpt-4o');
    expect(model.id).toBe('openai/gpt-4o');
    expect(scripted.seen.at(-1)?.path).toBe('/v1/models/openai%2Fgpt-4o');
    const bad = await fetch(`${running.baseUrl}/models/%E0%A4%A`);
    expect(bad.status).toBe(404);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
    expect(scripted.seen).toHaveLength(1);
    const put = await fetch(`${running.baseUrl}/models/gpt-4o`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET');
  });

  it('carries tool calls both ways: tools in the request, tool_calls in plain and streamed answers', async () => {
    const toolCall = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
    const scripted = await scriptedServer((_req, res, body) => {
      const request = JSON.parse(body) as { model: string; stream?: boolean };
      if (!request.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(openAiCompletion(request.model, '', { content: null, tool_calls: [toolCall] }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const base = { id: 'c', object: 'chat.completion.chunk', created: 1, model: request.model };
      res.write(
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ index: 0, ...toolCall, function: { name: 'get_weather', arguments: '' } }] }, finish_reason: null }] })}\n\n`,
      );
      res.write(
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }, finish_reason: null }] })}\n\n`,
      );
      res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const plain = await client(running.baseUrl).chat.completions.create({ model: 'blue-model', ...ask, tools, tool_choice: 'auto' });
    expect(plain.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    const sent = JSON.parse(scripted.seen[0]?.body ?? '{}') as Record<string, unknown>;
    expect(sent.tools).toEqual(tools);
    expect(sent.tool_choice).toBe('auto');
    const stream = client(running.baseUrl).chat.completions.stream({ model: 'blue-model', ...ask, tools });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.tool_calls?.[0]?.function).toMatchObject({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(running.proxy.metrics.snapshot().arms.blue.successes).toBe(2);
  });
});
