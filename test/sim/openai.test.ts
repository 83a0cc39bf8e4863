import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { chat, fastConfig, sim, sseData, USER } from './helpers.js';
import { systemClock, type Clock } from '../../src/core/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

const HOUR = 3_600_000;

function client(baseURL: string): OpenAI {
  return new OpenAI({ baseURL, apiKey: 'sk-anything', maxRetries: 0 });
}

describe('simulator, OpenAI dialect', () => {
  it('answers a chat completion the SDK parses, with usage and the requested model', async () => {
    const handle = await sim(fastConfig());
    const reply = await client(handle.baseUrl).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hello there, how are you?' }] });
    expect(reply.object).toBe('chat.completion');
    expect(reply.model).toBe('m');
    expect(reply.id).toMatch(/^chatcmpl-/);
    const choice = reply.choices[0];
    expect(choice?.finish_reason).toBe('stop');
    const content = choice?.message.content ?? '';
    expect(content.length).toBeGreaterThan(20);
    // About one token a word.
    expect(reply.usage?.completion_tokens).toBe(content.split(' ').length);
    expect(reply.usage?.completion_tokens).toBeGreaterThanOrEqual(20);
    expect(reply.usage?.completion_tokens).toBeLessThanOrEqual(40);
    // 25 characters / 4 rounded up, plus overhead for one message.
    expect(reply.usage?.prompt_tokens).toBe(7 + 6);
    expect(reply.usage?.total_tokens).toBe((reply.usage?.prompt_tokens ?? 0) + (reply.usage?.completion_tokens ?? 0));
  });

  it('caps the completion at max_tokens / max_completion_tokens with finish_reason length', async () => {
    const handle = await sim(fastConfig());
    const api = client(handle.baseUrl);
    const a = await api.chat.completions.create({ model: 'm', messages: USER as never, max_tokens: 5 });
    expect(a.choices[0]?.finish_reason).toBe('length');
    expect(a.usage?.completion_tokens).toBe(5);
    const b = await api.chat.completions.create({ model: 'm', messages: USER as never, max_completion_tokens: 3 });
    expect(b.usage?.completion_tokens).toBe(3);
    expect(b.choices[0]?.message.content?.split(' ')).toHaveLength(3);
  });

  it('streams chunks the SDK parses, ending with a usage chunk when include_usage is set', async () => {
    const handle = await sim(fastConfig());
    const stream = await client(handle.baseUrl).chat.completions.create({
      model: 'm',
      messages: USER as never,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: string[] = [];
    let last: OpenAI.Chat.Completions.ChatCompletionChunk | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.model).toBe('m');
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      last = chunk;
    }
    expect(finishes).toEqual(['stop']);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBe(text.split(' ').length);
    expect(last?.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  // Before (session 35): `n` was ignored, one choice answered and billed, so a rollout replaying requests with n
  // saw a third of their cost.
  it('answers n choices, whole or streamed, their usage summed; an n out of 1..128 is a 400 naming it', async () => {
    const handle = await sim(fastConfig());
    const api = client(handle.baseUrl);
    const whole = await api.chat.completions.create({ model: 'm', messages: USER as never, n: 3 });
    expect(whole.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    const content = whole.choices[0]?.message.content ?? '';
    for (const choice of whole.choices) expect(choice).toMatchObject({ message: { content }, finish_reason: 'stop' });
    expect(whole.usage?.completion_tokens).toBe(3 * content.split(' ').length);
    const stream = await api.chat.completions.create({ model: 'm', messages: USER as never, n: 2, stream: true, stream_options: { include_usage: true } });
    const texts = ['', ''];
    const finishes: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? '';
        if (choice.finish_reason) finishes.push(`${choice.index} ${choice.finish_reason}`);
      }
      usage = chunk.usage ?? usage;
    }
    expect(texts[1]).toBe(texts[0]);
    expect(finishes).toEqual(['0 stop', '1 stop']);
    expect(usage?.completion_tokens).toBe(2 * (texts[0] ?? '').split(' ').length);
    for (const n of [0, 129, 1.5, '2']) {
      const refused = await api.chat.completions.create({ model: 'm', messages: USER as never, n: n as number }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect(refused).toMatchObject({ status: 400, param: 'n' });
    }
  });

  it('sends no usage chunk without include_usage, and always ends with [DONE]', async () => {
    const handle = await sim(fastConfig());
    const response = await chat(handle, { stream: true });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = sseData(await response.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { choices: unknown[]; usage?: unknown });
    expect(chunks.every((c) => c.choices.length === 1 && c.usage === undefined)).toBe(true);
  });

  it('paces a stream: first content after ttft, the rest at tokens_per_second', async () => {
    const handle = await sim(fastConfig({ ttft: 100, tokens_per_second: 100, output_tokens: { min: 20, max: 20 } }));
    const started = performance.now();
    const response = await chat(handle, { stream: true });
    const reader = response.body!.getReader();
    const first = await reader.read();
    const firstAt = performance.now() - started;
    while (!(await reader.read()).done);
    const total = performance.now() - started;
    expect(first.done).toBe(false);
    expect(firstAt).toBeGreaterThanOrEqual(75); // ttft 100 ms, jittered ±20%
    expect(total).toBeGreaterThanOrEqual(75 + 150); // then 19 more tokens at 100/s
  });

  it('lists the configured models in a shape the SDK accepts', async () => {
    const handle = await sim({ models: { 'gpt-4o': {}, 'gpt-4.1': {} } });
    const page = await client(handle.baseUrl).models.list();
    expect(page.data.map((m) => m.id)).toEqual(['gpt-4o', 'gpt-4.1']);
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'bluegreen-sim' });
    const one = await client(handle.baseUrl).models.retrieve('gpt-4.1');
    expect(one.id).toBe('gpt-4.1');
  });

  it('times `changes[].at` on the steady clock: a wall clock stepped an hour either way neither brings on nor holds off a change', async () => {
    const fake = new FakeClock();
    // Answers on the real clock (a few ms); the time since start read from the fake one.
    const clock: Clock = { now: () => fake.now(), steadyNow: () => fake.steadyNow(), setTimer: (fn, ms) => systemClock.setTimer(fn, ms) };
    const handle = await sim(fastConfig({ changes: [{ at: 10_000, error_rate: 1 }] }), { clock });
    fake.jumpWall(HOUR);
    expect((await chat(handle, {})).status).toBe(200);
    fake.jumpWall(-2 * HOUR);
    await fake.advance(9_999);
    expect((await chat(handle, {})).status).toBe(200);
    await fake.advance(1);
    expect((await chat(handle, {})).status).toBe(500);
  });

  it('sends rate-limit budget headers that count down and refill each minute', async () => {
    let now = 120_000;
    const handle = await sim(fastConfig(), { now: () => now });
    const first = await chat(handle, {});
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('9999');
    const tokens = Number(first.headers.get('x-ratelimit-remaining-tokens'));
    const body = (await first.json()) as { usage: { total_tokens: number } };
    expect(tokens).toBe(2_000_000 - body.usage.total_tokens);
    const second = await chat(handle, {});
    expect(second.headers.get('x-ratelimit-remaining-requests')).toBe('9998');
    now += 60_000;
    const third = await chat(handle, {});
    expect(third.headers.get('x-ratelimit-remaining-requests')).toBe('9999');
    expect(third.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('counts completion requests, overall and by model', async () => {
    const handle = await sim(fastConfig({}, { default: FAST_DEFAULT }));
    await chat(handle, {});
    await chat(handle, { model: 'other' });
    await chat(handle, { model: 'other' });
    await fetch(`${handle.baseUrl}/models`);
    expect(handle.requestCount()).toBe(3);
    expect(handle.requestsByModel()).toEqual({ m: 1, other: 2 });
  });
});

const FAST_DEFAULT = { latency: { p50: 5, p95: 10 } };
