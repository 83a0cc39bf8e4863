// The Responses API through the proxy, with the official openai SDK (client.responses.create) as the application,
// against the simulator and scripted upstreams.
import OpenAI from 'openai';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { inBatches, runProxy, scriptedPlan, scriptedServer, setRoute, simPlan, UPSTREAM_KEY } from './helpers.js';
import { responseObject, responsesEvent, textItem } from './responses-fixtures.js';
import { until } from '../helpers/until.js';

const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

type Answer = { arm: string | null; fallback: string | null; id: string; text: string };

async function create(openai: OpenAI, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  const { data, response } = await openai.responses.create({ model: 'gpt-4o', input: 'hello there', ...body }, { headers }).withResponse();
  return { arm: response.headers.get('x-bluegreen-arm'), fallback: response.headers.get('x-bluegreen-fallback'), id: data.id, text: data.output_text };
}

async function streamed(openai: OpenAI, body: Record<string, unknown> = {}): Promise<Answer & { types: string[] }> {
  const { data, response } = await openai.responses.create({ model: 'gpt-4o', input: 'hello there', ...body, stream: true }).withResponse();
  const types: string[] = [];
  let text = '';
  let id = '';
  for await (const event of data) {
    types.push(event.type);
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') id = event.response.id;
  }
  return { arm: response.headers.get('x-bluegreen-arm'), fallback: response.headers.get('x-bluegreen-fallback'), id, text, types };
}

/** The response object of `model`'s answer (its id names the model). */
const modelResponse = (model: string, status: string, output: unknown[], extra: Record<string, unknown> = {}) =>
  responseObject(`resp_${model}`, model, status, output, extra);

const toolItem = { id: 'fc_1', type: 'function_call', status: 'completed', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' };

/** A stream's opening events: response.created and response.in_progress, before any output. */
function opening(res: ServerResponse, model: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const started = modelResponse(model, 'in_progress', []);
  res.write(
    responsesEvent({ type: 'response.created', sequence_number: 0, response: started }) +
      responsesEvent({ type: 'response.in_progress', sequence_number: 1, response: started }),
  );
}

describe('the Responses API through the proxy', () => {
  it("answers plain and streamed requests, names the arm, rewrites the model to the arm's and counts both per arm", async () => {
    const running = await runProxy(simPlan({ quality: '{ min_content_length: 5 }' }));
    const openai = client(running.baseUrl);
    const plain = await create(openai);
    expect(plain).toMatchObject({ arm: 'blue', fallback: null });
    expect(plain.text.length).toBeGreaterThan(0);
    const stream = await streamed(openai);
    expect(stream.arm).toBe('blue');
    expect(stream.types[0]).toBe('response.created');
    expect(stream.types.at(-1)).toBe('response.completed');
    expect(stream.text.length).toBeGreaterThan(0);
    setRoute(running.proxy, 1);
    const { data, response } = await openai.responses.create({ model: 'gpt-4o', input: 'hello' }).withResponse();
    expect(response.headers.get('x-bluegreen-arm')).toBe('green');
    expect(data.model).toBe('gpt-4.1');
    expect(running.endpoints.simulators[0]?.requestsByModel()).toEqual({ 'gpt-4o': 2, 'gpt-4.1': 1 });
    await until(() => running.proxy.metrics.snapshot().arms.blue.successes === 2, 'the stream recorded');
    const { blue, green } = running.proxy.metrics.snapshot().arms;
    expect(blue).toMatchObject({ requests: 2, successes: 2, qualityFailures: 0 });
    expect(blue.ttft?.count).toBe(1);
    expect(green).toMatchObject({ requests: 1, successes: 1 });
    expect(green.tokens.completion).toBe(data.usage?.output_tokens);
    expect(green.tokens.prompt).toBe(data.usage?.input_tokens);
    // Another model passes through to blue's /responses, outside the figures.
    const other = await openai.responses.create({ model: 'other-model', input: 'hello' }).withResponse();
    expect(other.data.model).toBe('other-model');
    expect(other.response.headers.get('x-bluegreen-arm')).toBe('blue');
    expect(running.proxy.metrics.snapshot().passedThrough).toBe(1);
  });

  it('reads max_output_tokens cut short as finish length, and counts it by quality.finish_reasons', async () => {
    const running = await runProxy(simPlan({ quality: '{ finish_reasons: [stop] }' }));
    const openai = client(running.baseUrl);
    const { data } = await openai.responses.create({ model: 'gpt-4o', input: 'hello', max_output_tokens: 2 }).withResponse();
    expect(data.status).toBe('incomplete');
    await openai.responses.create({ model: 'gpt-4o', input: 'hello', max_output_tokens: 2, stream: true }).then(async (s) => {
      for await (const _event of s) {
        /* read to the end */
      }
    });
    await until(() => running.proxy.metrics.snapshot().arms.blue.requests === 2, 'both recorded');
    expect(running.proxy.metrics.snapshot().arms.blue).toMatchObject({ successes: 2, qualityFailures: 2 });
  });

  it('carries a tool call in plain and streamed answers: a success whose empty text is no quality failure', async () => {
    const scripted = await scriptedServer((_req, res, body) => {
      const request = JSON.parse(body) as { model: string; stream?: boolean };
      if (!request.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(modelResponse(request.model, 'completed', [toolItem])));
        return;
      }
      opening(res, request.model);
      res.write(responsesEvent({ type: 'response.output_item.added', output_index: 0, item: { ...toolItem, arguments: '', status: 'in_progress' } }));
      res.write(responsesEvent({ type: 'response.function_call_arguments.delta', output_index: 0, item_id: 'fc_1', delta: '{"city":"Paris"}' }));
      res.write(responsesEvent({ type: 'response.output_item.done', output_index: 0, item: toolItem }));
      res.end(responsesEvent({ type: 'response.completed', response: modelResponse(request.model, 'completed', [toolItem]) }));
    });
    const running = await runProxy(scriptedPlan(scripted.url) + 'analysis: { quality: { min_content_length: 5 } }\n', { env: { UPSTREAM_KEY } });
    const openai = client(running.baseUrl);
    const tools = [{ type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    const plain = await openai.responses.create({ model: 'blue-model', input: 'weather in Paris?', tools });
    expect(plain.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect((JSON.parse(scripted.seen[0]?.body ?? '{}') as { tools: unknown }).tools).toEqual(tools);
    const stream = openai.responses.stream({ model: 'blue-model', input: 'weather in Paris?', tools });
    const final = await stream.finalResponse();
    expect(final.output[0]).toMatchObject({ type: 'function_call', arguments: '{"city":"Paris"}' });
    await until(() => running.proxy.metrics.snapshot().arms.blue.requests === 2, 'both recorded');
    const blue = running.proxy.metrics.snapshot().arms.blue;
    expect(blue).toMatchObject({ successes: 2, qualityFailures: 0, shapes: { toolCalls: 2 } });
    // The first output was the tool call: it is the stream's time to first token.
    expect(blue.ttft?.count).toBe(1);
  });

  it('refuses a background response (400): its result would be fetched from a path the proxy does not serve', async () => {
    const running = await runProxy(simPlan());
    const error = await client(running.baseUrl)
      .responses.create({ model: 'gpt-4o', input: 'hello', background: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('background responses are not served by this proxy');
    expect(running.endpoints.simulators[0]?.requestCount()).toBe(0);
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(1);
  });

  it('passes an upstream error through with its status and body, plain and streamed', async () => {
    const running = await runProxy(simPlan({ blue: 'error_rate: 1' }));
    for (const stream of [false, true]) {
      const error = await client(running.baseUrl)
        .responses.create({ model: 'gpt-4o', input: 'hello', stream })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.InternalServerError);
      expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe('server_error');
      expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('x-bluegreen-arm')).toBe('blue');
    }
    expect(running.proxy.metrics.snapshot().arms.blue.failuresByClass).toEqual({ server_error: 2 });
  });

  it("splits by the route's weight within 4 standard deviations (seeded), and keeps a user on one arm", async () => {
    const running = await runProxy(simPlan(), { random: createRandom(42) });
    setRoute(running.proxy, 0.3);
    const openai = client(running.baseUrl);
    // The split's statistics are routing.test.ts's (400 chat requests); here, that Responses requests take the same
    // split: 100 tell 0.3 from 0 or 1 and from 0.5 (over 4 standard deviations away). 300 and 30 ids took 14-18 s.
    const n = 100;
    const arms = await inBatches(n, 25, () => create(openai));
    const green = arms.filter((a) => a.arm === 'green').length;
    expect(Math.abs(green - n * 0.3)).toBeLessThan(4 * Math.sqrt(n * 0.3 * 0.7));
    expect(running.proxy.metrics.snapshot().arms.green.requests).toBe(green);
    // safety_identifier, user, and the conversation id each keep their requests on one arm.
    for (const field of ['safety_identifier', 'user', 'conversation'] as const) {
      const ids = Array.from({ length: 12 }, (_, i) => `${field}-${i}`);
      const first = await inBatches(ids.length, 12, (i) => create(openai, { [field]: ids[i] }));
      const again = await inBatches(ids.length, 12, (i) => create(openai, { [field]: ids[i] }));
      expect(again.map((a) => a.arm)).toEqual(first.map((a) => a.arm));
      expect(new Set(first.map((a) => a.arm)).size).toBe(2);
    }
    // The sticky header wins over the body's ids.
    const byHeader = await inBatches(8, 8, (i) => create(openai, { safety_identifier: `other-${i}` }, { 'x-bluegreen-sticky-key': 'conversation-7' }));
    expect(new Set(byHeader.map((a) => a.arm)).size).toBe(1);
  });

  it('answers every request with blue when green fails them all: the client sees no failure, green is charged', async () => {
    const running = await runProxy(simPlan({ green: 'error_rate: 1' }));
    setRoute(running.proxy, 1);
    const openai = client(running.baseUrl);
    const answers = [...(await inBatches(10, 10, () => create(openai))), ...(await inBatches(10, 10, () => streamed(openai)))];
    for (const answer of answers) expect(answer).toMatchObject({ arm: 'blue', fallback: 'true' });
    expect(answers.every((a) => a.text.length > 0)).toBe(true);
    await until(() => running.proxy.metrics.snapshot().arms.blue.successes === 20, 'all recorded');
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(20);
    expect(figures.arms.green.failuresByClass).toEqual({ server_error: 20 });
  });

  it('copies blue-routed requests to green in a shadow stage (the client sees only blue), but never a continuation', async () => {
    const running = await runProxy(simPlan());
    setRoute(running.proxy, 0, 1);
    const openai = client(running.baseUrl);
    const answers = await inBatches(10, 10, () => create(openai));
    expect(answers.every((a) => a.arm === 'blue' && a.fallback === null)).toBe(true);
    await until(() => running.proxy.metrics.snapshot().arms.green.requests === 10, 'mirrored answers judged');
    // A continuation names state held by blue's answer (and a conversation would get green's turn): not copied.
    await create(openai, { previous_response_id: answers[0]?.id });
    await create(openai, { conversation: 'conv_1' });
    expect(running.proxy.metrics.snapshot().mirrors).toEqual({ sent: 10, dropped: 0 });
    expect(running.endpoints.simulators[0]?.requestsByModel()).toEqual({ 'gpt-4o': 12, 'gpt-4.1': 10 });
  });
});

describe('a green Responses stream whose model thinks long after its opening events', () => {
  afterEach(() => vi.useRealTimers());

  it('sends response.created and response.in_progress as they are after proxy.opening_hold, its output following', async () => {
    let release: (() => void) | undefined;
    const scripted = await scriptedServer((_req, res, body) => {
      const { model } = JSON.parse(body) as { model: string };
      opening(res, model);
      release = () => {
        res.write(responsesEvent({ type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: 'msg_1', delta: 'green answer' }));
        res.end(responsesEvent({ type: 'response.completed', response: modelResponse(model, 'completed', [textItem('green answer')]) }));
      };
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ opening_hold: 1s }' }), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    // The proxy's timers faked once it runs: moved past the 1 s hold once green's opening went out (request: 5s).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let answer: Response | undefined;
    void fetch(`${running.baseUrl}/responses`, { method: 'POST', body: JSON.stringify({ model: 'blue-model', input: 'hi', stream: true }) }).then(
      (res) => (answer = res),
    );
    await until(() => release !== undefined, "green's opening events written");
    await vi.advanceTimersByTimeAsync(1000);
    await until(() => answer !== undefined, "green's headers while its model thinks past proxy.opening_hold", 10_000);
    expect(answer?.headers.get('x-bluegreen-arm')).toBe('green');
    const reader = (answer?.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('response.in_progress')) text += decoder.decode((await reader.read()).value, { stream: true });
    expect(text).not.toContain('green answer');
    release?.();
    for (let part = await reader.read(); !part.done; part = await reader.read()) text += decoder.decode(part.value, { stream: true });
    expect(text).toContain('green answer');
    await until(() => running.proxy.metrics.snapshot().arms.green.successes === 1, 'green recorded');
    expect(running.proxy.metrics.snapshot().fallbacks).toBe(0);
  });
});

describe('a green Responses stream that fails', () => {
  /** Green fails as `fail` says; blue answers "blue answer". */
  async function failingGreen(fail: (res: ServerResponse, model: string) => void) {
    const scripted = await scriptedServer((_req, res, body) => {
      const request = JSON.parse(body) as { model: string };
      if (request.model === 'green-model') return fail(res, request.model);
      opening(res, request.model);
      res.write(responsesEvent({ type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: 'msg_1', delta: 'blue answer' }));
      res.end(responsesEvent({ type: 'response.completed', response: modelResponse(request.model, 'completed', [textItem('blue answer')]) }));
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
    setRoute(running.proxy, 1);
    return running;
  }

  it('falls back to blue when response.failed or an error event follows only response.created and response.in_progress', async () => {
    for (const failure of [
      { type: 'response.failed', response: { ...modelResponse('green-model', 'failed', []), error: { code: 'server_error', message: 'model crashed' } } },
      { type: 'error', code: 'server_error', message: 'model crashed', param: null },
    ]) {
      const running = await failingGreen((res, model) => {
        opening(res, model);
        setImmediate(() => res.end(responsesEvent(failure)));
      });
      const answer = await streamed(client(running.baseUrl), { model: 'blue-model' });
      expect(answer).toMatchObject({ arm: 'blue', fallback: 'true', text: 'blue answer' });
      expect(answer.types.filter((t) => t === 'response.created')).toHaveLength(1);
      await until(() => running.proxy.metrics.snapshot().arms.blue.successes === 1, 'blue recorded');
      expect(running.proxy.metrics.snapshot().arms.green.failuresByClass).toEqual({ bad_response: 1 });
      await running.close();
    }
  });

  it('passes response.failed after the first output on to the client, and counts it as green bad_response', async () => {
    const running = await failingGreen((res, model) => {
      opening(res, model);
      res.write(responsesEvent({ type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: 'msg_1', delta: 'Hel' }));
      setImmediate(() =>
        res.end(
          responsesEvent({
            type: 'response.failed',
            response: { ...modelResponse(model, 'failed', []), error: { code: 'server_error', message: 'model crashed' } },
          }),
        ),
      );
    });
    const answer = await streamed(client(running.baseUrl), { model: 'blue-model' });
    expect(answer).toMatchObject({ arm: 'green', fallback: null, text: 'Hel' });
    expect(answer.types.at(-1)).toBe('response.failed');
    await until(() => running.proxy.metrics.snapshot().arms.green.failures === 1, 'green failure recorded');
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(0);
    expect(figures.arms.green.failuresByClass).toEqual({ bad_response: 1 });
    const feed = await fetch(`${running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const entries = ((await feed.json()) as { results: { kind: string; result: { arm: string; ok: boolean; errorMessage?: string } }[] }).results;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'routed', result: { arm: 'green', ok: false } });
    expect(entries[0]?.result.errorMessage).toContain('model crashed');
  });

  it("never passes on the upstream's key, in a failed response's body, an error event or the figures", async () => {
    const leak = { code: 'invalid_api_key', message: `Incorrect API key provided: ${UPSTREAM_KEY}` };
    const scripted = await scriptedServer((_req, res, body) => {
      const request = JSON.parse(body) as { model: string; stream?: boolean };
      if (!request.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...modelResponse(request.model, 'failed', []), error: leak }));
        return;
      }
      opening(res, request.model);
      res.end(responsesEvent({ type: 'error', ...leak, param: null }));
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { UPSTREAM_KEY, ADMIN_TOKEN } });
    const seen: string[] = [];
    for (const stream of [false, true]) {
      const answer = await fetch(`${running.baseUrl}/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'blue-model', input: 'hi', stream }),
      });
      seen.push(await answer.text());
    }
    await until(() => running.proxy.metrics.snapshot().arms.blue.failures === 2, 'both recorded');
    const admin = (path: string) =>
      fetch(`${running.proxy.adminUrl as string}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
    const feed = await admin('/admin/results?after=0');
    const figures = await admin('/admin/figures');
    const metrics = await fetch(`${running.proxy.url}/metrics`).then((r) => r.text());
    expect(feed).toContain('Incorrect API key provided: [redacted]');
    for (const text of [...seen, feed, figures, metrics, ...running.logs]) expect(text).not.toContain(UPSTREAM_KEY.slice(0, 12));
  });
});

describe('a Responses client that goes away mid-stream', () => {
  it("cancels green's request upstream, and is counted as a client abort, not green's failure", async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const scripted = await scriptedServer((_req, res, body) => {
      res.on('close', () => upstreamClosed());
      opening(res, (JSON.parse(body) as { model: string }).model);
      res.write(responsesEvent({ type: 'response.output_text.delta', output_index: 0, content_index: 0, item_id: 'msg_1', delta: 'Hel' }));
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const abort = new AbortController();
    const stream = await client(running.baseUrl).responses.create({ model: 'blue-model', input: 'hi', stream: true }, { signal: abort.signal });
    const reading = (async () => {
      for await (const event of stream) if (event.type === 'response.output_text.delta') abort.abort();
    })().catch(() => undefined);
    await closed;
    await reading;
    await until(() => running.proxy.metrics.snapshot().arms.green.clientAborts === 1, 'the abort counted');
    expect(running.proxy.metrics.snapshot().arms.green).toMatchObject({ failures: 0, inFlight: 0 });
  });
});
