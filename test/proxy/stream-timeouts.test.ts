// A healthy long stream on live traffic is not cut by upstream.timeout.request: that bounds the wait for the
// stream's first bytes; after them timeout.idle bounds each silence and proxy.limits.max_stream_duration the
// whole. The proxy's timers are faked (setTimeout only: sockets and setImmediate stay real) and moved by hand
// while a scripted upstream sends the chunks the test asks for.
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runProxy, scriptedPlan, scriptedServer, setRoute, streamedRequest, UPSTREAM_KEY, type Running, type Scripted } from './helpers.js';
import { until } from '../helpers/until.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const chunk = (content: string) => `data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: { content } }] })}\n\n`;
const END = `data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;

/** An upstream that starts a stream and sends whatever the test writes to `upstream()`, when it says so. */
async function streamingUpstream(options: { firstChunk?: boolean } = {}): Promise<{ scripted: Scripted; upstream: () => ServerResponse }> {
  let response: ServerResponse | undefined;
  const scripted = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (options.firstChunk !== false) res.write(chunk('first '));
    response = res;
  });
  return { scripted, upstream: () => response as ServerResponse };
}

async function plan(scripted: Scripted, timeouts: string, proxy?: string): Promise<Running> {
  const yaml = scriptedPlan(scripted.url, proxy ? { proxy } : {}).replace('timeout: { connect: 2s, request: 5s, idle: 2s }', `timeout: ${timeouts}`);
  const started = await runProxy(yaml, { env: { UPSTREAM_KEY } });
  setRoute(started.proxy, 0);
  return started;
}

describe('a streamed answer through the proxy', () => {
  it('that keeps sending goes on past upstream.timeout.request, whole', async () => {
    const { scripted, upstream } = await streamingUpstream();
    const running = await plan(scripted, '{ connect: 2s, request: 1s, idle: 2s }');
    const client = streamedRequest(running);
    await until(() => client.text().includes('first'), 'the first chunk at the client');
    // Four silences of 0.9 s (each under the idle timeout), 3.6 s in all: more than three request timeouts.
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(900);
      upstream().write(chunk(`part${i} `));
      await until(() => client.text().includes(`part${i}`), `chunk ${i} at the client`);
    }
    upstream().end(END);
    await client.done;
    expect(client.ended()).toBe('complete');
    expect(client.text()).toContain('data: [DONE]');
    await until(() => running.proxy.metrics.snapshot().arms.blue.requests === 1, 'the stream recorded');
    const blue = running.proxy.metrics.snapshot().arms.blue;
    expect(blue.successes).toBe(1);
    expect(blue.failuresByClass).toEqual({});
  });

  it('that falls silent longer than upstream.timeout.idle after its first chunk is cut, as the arm timing out', async () => {
    const { scripted } = await streamingUpstream();
    const running = await plan(scripted, '{ connect: 2s, request: 10s, idle: 2s }');
    const client = streamedRequest(running);
    await until(() => client.text().includes('first'), 'the first chunk at the client');
    await vi.advanceTimersByTimeAsync(2100);
    await client.done;
    // Cut without its terminator: the client sees a broken stream, not an answer that looks whole.
    expect(client.ended()).toBe('broken');
    expect(client.text()).not.toContain('[DONE]');
    await until(() => running.proxy.metrics.snapshot().arms.blue.failures === 1, 'the failure recorded');
    expect(running.proxy.metrics.snapshot().arms.blue.failuresByClass).toEqual({ timeout: 1 });
  });

  it('is cut at proxy.limits.max_stream_duration after its first chunk however steadily it sends', async () => {
    const { scripted, upstream } = await streamingUpstream();
    const running = await plan(scripted, '{ connect: 2s, request: 1s, idle: 2s }', '{ limits: { max_stream_duration: 3s } }');
    const reasons: string[] = [];
    running.proxy.metrics.onResult((result) => reasons.push(result.errorMessage ?? 'ok'));
    const client = streamedRequest(running);
    await until(() => client.text().includes('first'), 'the first chunk at the client');
    for (let i = 0; i < 3; i++) {
      await vi.advanceTimersByTimeAsync(900);
      upstream().write(chunk(`part${i} `));
      await until(() => client.text().includes(`part${i}`), `chunk ${i} at the client`);
    }
    // 2.7 s so far: the limit falls due 0.3 s later.
    await vi.advanceTimersByTimeAsync(400);
    await client.done;
    expect(client.ended()).toBe('broken');
    await until(() => reasons.length === 1, 'the failure recorded');
    expect(reasons[0]).toBe('blue arm: 200 timeout (stream went on past 3s, proxy.limits.max_stream_duration)');
  });

  it('whose first bytes do not come within upstream.timeout.request is a timeout, answered before anything was sent', async () => {
    const { scripted } = await streamingUpstream({ firstChunk: false });
    const running = await plan(scripted, '{ connect: 2s, request: 1s, idle: 5s }');
    const client = streamedRequest(running);
    await until(() => scripted.seen.length === 1, 'the request upstream');
    await vi.advanceTimersByTimeAsync(1100);
    await client.done;
    expect(client.status()).toBe(504);
    expect(running.proxy.metrics.snapshot().arms.blue.failuresByClass).toEqual({ timeout: 1 });
  });
});
