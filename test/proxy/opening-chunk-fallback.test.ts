// A chat stream's first chunk is its role alone (`delta: { role: 'assistant', content: '' }`, as OpenAI and the
// OpenAI-compatible servers send it), no output yet. A green failing right after it (an error chunk, a cut, a
// silence past upstream.timeout.idle) had already committed the client to green: the role chunk went out, and the
// client saw the failure blue could have answered. While blue can answer, the proxy now holds a green stream's
// chunks until the first that carries output, and falls back on such a failure; a healthy green's held chunks go
// out with its first text.
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { until } from '../helpers/until.js';
import { planFromYaml } from '../helpers/plans.js';
import { chatChunk as chunk, proxyWithGreen, streamThrough } from './green-opening.js';
import { scriptedPlan } from './helpers.js';

const ROLE = chunk('green-model', { role: 'assistant', content: '' });
const ERROR_CHUNK = `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request', type: 'server_error' } })}\n\n`;

afterEach(() => vi.useRealTimers());

describe('a green chat stream failing right after its role-only first chunk', () => {
  it('is answered by blue when an error chunk follows it', async () => {
    const running = await proxyWithGreen(ROLE, (res) => res.end(ERROR_CHUNK));
    expect(await streamThrough(running)).toEqual({ text: 'blue says hi', arm: 'blue', fallback: 'true' });
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(1);
    expect(figures.arms.green.failuresByClass).toEqual({ bad_response: 1 });
  });

  it('is answered by blue when the connection breaks after it', async () => {
    const running = await proxyWithGreen(ROLE, (res) => res.socket?.destroy());
    expect(await streamThrough(running)).toEqual({ text: 'blue says hi', arm: 'blue', fallback: 'true' });
    expect(running.proxy.metrics.snapshot().arms.green.failuresByClass).toEqual({ connection: 1 });
  });

  it('is answered by blue when green falls silent after it past upstream.timeout.idle', async () => {
    let wrote = false;
    const running = await proxyWithGreen(ROLE, () => (wrote = true), { from: 'idle: 2s', to: 'idle: 300ms' });
    // The proxy's timers are faked (setTimeout only) and moved past green's 300 ms once the proxy has read its role
    // chunk: a real 300 ms bounded blue's answer too, which a loaded machine stalling this process could outlast.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const streamed = streamThrough(running);
    await until(() => wrote, "green's role chunk read by the proxy");
    await vi.advanceTimersByTimeAsync(300);
    expect(await streamed).toEqual({ text: 'blue says hi', arm: 'blue', fallback: 'true' });
    expect(running.proxy.metrics.snapshot().arms.green.failuresByClass).toEqual({ timeout: 1 });
  });

  // The role chunk held as an opening; OpenRouter's comment before the first event is whole.
  it.each([
    ['its role chunk', ROLE],
    ['a comment alone', ': OPENROUTER PROCESSING\n\n'],
  ])(
    'goes out as it is after proxy.opening_hold while green is still silent after %s (a reasoning model thinking), its text following',
    async (_what, opening) => {
      let release: (() => void) | undefined;
      const running = await proxyWithGreen(
        opening,
        (res) => (release = () => res.end(chunk('green-model', { content: 'green says hi' }, 'stop') + 'data: [DONE]\n\n')),
        { from: '{ fallback: true }', to: '{ fallback: true, opening_hold: 1s }' },
      );
      // Faked once the proxy runs, and moved past the 1 s hold once green's role chunk is read (upstream.timeout.idle is 2 s).
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      let answer: Response | undefined;
      void fetch(`${running.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer unused' },
        body: JSON.stringify({ model: 'blue-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      }).then((res) => (answer = res));
      await until(() => release !== undefined, "green's opening read by the proxy");
      await vi.advanceTimersByTimeAsync(1000);
      await until(() => answer !== undefined, "green's headers while green is silent past proxy.opening_hold", 10_000);
      expect(answer?.headers.get('x-bluegreen-arm')).toBe('green');
      const reader = (answer?.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      const first = await reader.read();
      expect(decoder.decode(first.value)).toBe(opening);
      release?.();
      let rest = '';
      for (let part = await reader.read(); !part.done; part = await reader.read()) rest += decoder.decode(part.value, { stream: true });
      expect(rest).toContain('green says hi');
      const figures = running.proxy.metrics.snapshot();
      expect(figures.fallbacks).toBe(0);
      expect(figures.arms.green.failures).toBe(0);
    },
  );

  it('reaches the client whole from green when its text follows: the role chunk goes out first', async () => {
    const running = await proxyWithGreen(ROLE, (res) =>
      res.end(chunk('green-model', { content: 'green says hi' }) + chunk('green-model', {}, 'stop') + 'data: [DONE]\n\n'),
    );
    expect(await streamThrough(running)).toEqual({ text: 'green says hi', arm: 'green', fallback: null });
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(0);
    expect(figures.arms.green.failures).toBe(0);
  });

  it('streams a refusal to the client as it comes: refusal text is output, as text is', async () => {
    let release: (() => void) | undefined;
    const running = await proxyWithGreen(ROLE, (res) => {
      res.write(chunk('green-model', { refusal: "I can't help with that." }));
      // Green's stream stays open until the client has seen the refusal: held, it would never be seen.
      release = () => res.end(chunk('green-model', {}, 'stop') + 'data: [DONE]\n\n');
    });
    const client = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'blue-model', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let refusal = '';
    const reading = (async () => {
      for await (const part of stream) refusal += (part.choices[0]?.delta as { refusal?: string } | undefined)?.refusal ?? '';
    })();
    await until(() => refusal !== '', "green's refusal to reach the client while green's stream is still open", 10_000);
    release?.();
    await reading;
    expect(refusal).toBe("I can't help with that.");
    expect(running.proxy.metrics.snapshot().fallbacks).toBe(0);
  });

  it('sends an opening of more than 64 KiB without output as it comes, not held to the end of the stream', async () => {
    // Chunks the reader counts no output in (filter results with no choice, as Azure sends), 100 KiB of them.
    const filler = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'green-model', choices: [], pad: 'x'.repeat(1000) })}\n\n`;
    let release: (() => void) | undefined;
    const running = await proxyWithGreen(ROLE, (res) => {
      res.write(filler.repeat(100));
      release = () => res.end(chunk('green-model', { content: 'green says hi' }, 'stop') + 'data: [DONE]\n\n');
    });
    const answer = await fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer unused' },
      body: JSON.stringify({ model: 'blue-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const reader = (answer.body as ReadableStream<Uint8Array>).getReader();
    let received = 0;
    const reading = (async () => {
      for (let part = await reader.read(); !part.done; part = await reader.read()) received += part.value.length;
    })();
    await until(() => received > 64 * 1024, "green's opening past 64 KiB to reach the client while its stream is open", 10_000);
    release?.();
    await reading;
    expect(answer.headers.get('x-bluegreen-arm')).toBe('green');
  });
});

describe('proxy.opening_hold in the plan', () => {
  const plan = (proxy: string) => planFromYaml(scriptedPlan('http://127.0.0.1:9/v1', { proxy }));

  it('is 10 s unless set, and at least 1 ms (0 would hold nothing: no fallback after the first bytes)', () => {
    expect(plan('{}').proxy?.opening_hold).toBe(10_000);
    expect(plan('{ opening_hold: 2m }').proxy?.opening_hold).toBe(120_000);
    expect(() => plan('{ opening_hold: 0s }')).toThrow(/proxy\.opening_hold: must be at least 1ms/);
    expect(() => plan('{ opening_hold: 10 }')).toThrow(/proxy\.opening_hold: expected a duration with a unit/);
  });
});
