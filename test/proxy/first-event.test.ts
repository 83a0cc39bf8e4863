// A green stream that opens with SSE comments (OpenRouter's `: OPENROUTER PROCESSING` while the provider has not
// produced its first token), or whose first event comes in pieces, and then fails is still answered by blue: the
// stream's start is held back with the headers until its first event is whole while blue can answer, so it does not
// commit the client to green. A healthy green's comments go out just before
// its first event; a green sending only comments is bounded by upstream.timeout.request as a silent one would be.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventLoopTurns } from '../helpers/turns.js';
import { until } from '../helpers/until.js';
import { proxyWithGreen, streamThrough } from './green-opening.js';

const COMMENT = ': OPENROUTER PROCESSING\n\n';
const chunk = (model: string, content: string) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content } }] })}\n\n`;
const STREAM_END = (model: string) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;
const ERROR_EVENT = `data: ${JSON.stringify({ error: { message: 'provider overloaded', code: 502 } })}\n\n`;

afterEach(() => vi.useRealTimers());

describe('a green stream that opens with SSE comments', () => {
  it('falls back to blue when an error event follows the comments', async () => {
    const running = await proxyWithGreen(COMMENT, (res) => res.end(ERROR_EVENT));
    expect(await streamThrough(running)).toEqual({ text: 'blue says hi', arm: 'blue', fallback: 'true' });
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(1);
    expect(figures.arms.green.failuresByClass).toEqual({ bad_response: 1 });
  });

  it('falls back to blue when the connection breaks after the comments', async () => {
    const running = await proxyWithGreen(COMMENT, (res) => res.socket?.destroy());
    expect(await streamThrough(running)).toEqual({ text: 'blue says hi', arm: 'blue', fallback: 'true' });
    expect(running.proxy.metrics.snapshot().fallbacks).toBe(1);
  });

  it('falls back when only comments come until upstream.timeout.request', async () => {
    let commented = false;
    const running = await proxyWithGreen(COMMENT, () => (commented = true), { from: 'request: 5s', to: 'request: 300ms' });
    // The proxy's timers are faked (setTimeout only) and moved past green's 300 ms once the proxy has read its
    // comment: a real 300 ms bounded blue's answer too, which a loaded machine stalling this process could outlast.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const streamed = streamThrough(running);
    await until(() => commented, "green's comment read by the proxy");
    await vi.advanceTimersByTimeAsync(300);
    expect(await streamed).toEqual({ text: 'blue says hi', arm: 'blue', fallback: 'true' });
    expect(running.proxy.metrics.snapshot().arms.green.failuresByClass).toEqual({ timeout: 1 });
  });

  it('falls back when the error event after the comments comes in pieces', async () => {
    const running = await proxyWithGreen(COMMENT, (res) => {
      res.write(
        'data: ',
        () => void eventLoopTurns(5).then(() => res.write(ERROR_EVENT.slice('data: '.length, -2), () => void eventLoopTurns(5).then(() => res.end('\n\n')))),
      );
    });
    expect(await streamThrough(running)).toEqual({ text: 'blue says hi', arm: 'blue', fallback: 'true' });
    expect(running.proxy.metrics.snapshot().arms.green.failuresByClass).toEqual({ bad_response: 1 });
  });

  it('sends a healthy green its comments first, then the stream as it came', async () => {
    const running = await proxyWithGreen(COMMENT, (res) => res.end(chunk('green-model', 'green says hi') + STREAM_END('green-model')));
    const answer = await fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(answer.headers.get('x-bluegreen-arm')).toBe('green');
    const body = await answer.text();
    expect(body.startsWith(COMMENT + 'data: ')).toBe(true);
    expect(body).toContain('green says hi');
    expect(running.proxy.metrics.snapshot().fallbacks).toBe(0);
  });
});
