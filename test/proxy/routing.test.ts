// Weight, stickiness, fallback and mirror, with the OpenAI SDK as the application.
import OpenAI from 'openai';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { inBatches, openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute, simPlan, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

const client = (baseURL: string) => new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
const ask = { messages: [{ role: 'user' as const, content: 'hello there' }] };

async function armOf(
  openai: OpenAI,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ arm: string | null; fallback: string | null }> {
  const { response } = await openai.chat.completions.create({ model: 'gpt-4o', ...ask, ...body }, { headers }).withResponse();
  return { arm: response.headers.get('x-bluegreen-arm'), fallback: response.headers.get('x-bluegreen-fallback') };
}

describe('routing', () => {
  it("sends the route's share of unkeyed requests to green, within 4 standard deviations (seeded)", async () => {
    const running = await runProxy(simPlan(), { random: createRandom(42) });
    setRoute(running.proxy, 0.3);
    const openai = client(running.baseUrl);
    const n = 400;
    const arms = await inBatches(n, 25, () => armOf(openai));
    const green = arms.filter((a) => a.arm === 'green').length;
    const sd = Math.sqrt(n * 0.3 * 0.7);
    expect(Math.abs(green - n * 0.3)).toBeLessThan(4 * sd);
    expect(running.proxy.metrics.snapshot().arms.green.requests).toBe(green);
  });

  it('keeps a user on one arm, and a user on green stays on green as the weight grows', async () => {
    const running = await runProxy(simPlan());
    const openai = client(running.baseUrl);
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    setRoute(running.proxy, 0.3);
    const first = await inBatches(users.length, 20, (i) => armOf(openai, { user: users[i] }));
    const again = await inBatches(users.length, 20, (i) => armOf(openai, { user: users[i] }));
    expect(again.map((a) => a.arm)).toEqual(first.map((a) => a.arm));
    expect(first.some((a) => a.arm === 'green') && first.some((a) => a.arm === 'blue')).toBe(true);
    setRoute(running.proxy, 0.6);
    const later = await inBatches(users.length, 20, (i) => armOf(openai, { user: users[i] }));
    first.forEach((a, i) => {
      if (a.arm === 'green') expect(later[i]?.arm).toBe('green');
    });
    // The sticky header and metadata ids pin a conversation the same way.
    const byHeader = await inBatches(6, 6, () => armOf(openai, {}, { 'x-bluegreen-sticky-key': 'conversation-7' }));
    expect(new Set(byHeader.map((a) => a.arm)).size).toBe(1);
  });
});

describe('fallback', () => {
  it('answers every request with blue when green fails them all: the client sees no failure', async () => {
    const running = await runProxy(simPlan({ green: 'error_rate: 1' }));
    setRoute(running.proxy, 1);
    const openai = client(running.baseUrl);
    const plain = await inBatches(20, 10, () => armOf(openai));
    const streamed = await inBatches(20, 10, async () => {
      const { data, response } = await openai.chat.completions.create({ model: 'gpt-4o', ...ask, stream: true }).withResponse();
      let text = '';
      for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
      return { arm: response.headers.get('x-bluegreen-arm'), fallback: response.headers.get('x-bluegreen-fallback'), text };
    });
    for (const answer of [...plain, ...streamed]) expect(answer).toMatchObject({ arm: 'blue', fallback: 'true' });
    expect(streamed.every((a) => a.text.length > 0)).toBe(true);
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(40);
    expect(figures.arms.green.failuresByClass).toEqual({ server_error: 40 });
    expect(figures.arms.blue.successes).toBe(40);
  });

  it("falls back on 429 too, and with fallback off the client gets green's error as it was", async () => {
    let running = await runProxy(simPlan({ green: 'rate_limit_rate: 1' }));
    setRoute(running.proxy, 1);
    expect(await armOf(client(running.baseUrl))).toEqual({ arm: 'blue', fallback: 'true' });
    await running.close();
    running = await runProxy(simPlan({ green: 'error_rate: 1', proxy: '{ fallback: false }' }));
    setRoute(running.proxy, 1);
    const error = await client(running.baseUrl)
      .chat.completions.create({ model: 'gpt-4o', ...ask })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('x-bluegreen-arm')).toBe('green');
    expect(running.proxy.metrics.snapshot().fallbacks).toBe(0);
  });

  it("cannot fall back once green's stream has started: the client sees the stream break", async () => {
    const scripted = await scriptedServer((_req, res, body) => {
      const request = JSON.parse(body) as { model: string };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: request.model, choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] })}\n\n`,
      );
      // Green dies mid-stream.
      setImmediate(() => res.destroy());
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const openai = client(running.baseUrl);
    const failure = await (async () => {
      const stream = await openai.chat.completions.create({ model: 'blue-model', ...ask, stream: true });
      for await (const _chunk of stream) {
        /* reading until it breaks */
      }
    })().then(
      () => 'completed',
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(Error);
    await until(() => running.proxy.metrics.snapshot().arms.green.failures === 1, 'green failure recorded');
    expect(running.proxy.metrics.snapshot().fallbacks).toBe(0);
  });
});

describe('mirror', () => {
  it('copies blue-routed requests to green in a shadow stage; the client only ever sees blue', async () => {
    const running = await runProxy(simPlan());
    setRoute(running.proxy, 0, 1);
    const arms = await inBatches(30, 10, () => armOf(client(running.baseUrl)));
    expect(arms.every((a) => a.arm === 'blue' && a.fallback === null)).toBe(true);
    await until(() => running.proxy.metrics.snapshot().arms.green.requests === 30, 'mirrored answers judged');
    const figures = running.proxy.metrics.snapshot();
    expect(figures.mirrors).toEqual({ sent: 30, dropped: 0 });
    expect(figures.arms.green.successes).toBe(30);
    expect(running.endpoints.simulators[0]?.requestsByModel()).toEqual({ 'gpt-4o': 30, 'gpt-4.1': 30 });
    // A streamed copy is read as it arrives: its time to first token is green's, not its whole answer's.
    const stream = await client(running.baseUrl).chat.completions.create({ model: 'gpt-4o', ...ask, stream: true });
    for await (const _chunk of stream) {
      /* the client reads blue's stream */
    }
    await until(() => running.proxy.metrics.snapshot().arms.green.ttft?.count === 1, 'the streamed copy judged');
    const green = running.proxy.metrics.snapshot().arms.green;
    expect(green.ttft?.max).toBeLessThan(green.latency?.max ?? 0);
  });

  it('drops (and counts) copies beyond the mirror in-flight limit, never delaying the client', async () => {
    const held: ServerResponse[] = [];
    const scripted = await scriptedServer((_req, res, body) => {
      const request = JSON.parse(body) as { model: string };
      if (request.model === 'green-model') return void held.push(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion(request.model, 'blue answer'));
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { max_mirror_in_flight: 2 } }' }), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0, 1);
    const openai = client(running.baseUrl);
    for (let i = 0; i < 5; i++) expect((await armOf(openai, { model: 'blue-model' })).arm).toBe('blue');
    expect(running.proxy.metrics.snapshot().mirrors).toEqual({ sent: 0, dropped: 3 });
    await until(() => held.length === 2, 'two mirror copies at green');
    for (const res of held) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('green-model', 'green answer'));
    }
    await until(() => running.proxy.metrics.snapshot().mirrors.sent === 2, 'mirror copies judged');
  });
});
