// A stream line the watch would have to hold whole (an upstream sending no line break) is bounded by
// proxy.limits.max_response_bytes: past it the stream is judged a bad_response and no longer read, while its
// bytes still reach the client as they come. Without the bound a 700 MB line took the proxy from 150 MB to
// 880 MB and failed as a "connection" error once V8's longest string was passed.
import { describe, expect, it } from 'vitest';
import { StreamWatch } from '../../src/proxy/stream-watch.js';
import { openAiDialect } from '../../src/upstream/openai.js';
import { runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

const now = () => 0;

describe('StreamWatch line bound', () => {
  it('fails a line longer than the bound, even split across chunks', () => {
    const watch = new StreamWatch(openAiDialect.streamReader(), now, 100);
    watch.feed(Buffer.from(`data: {"x":"${'a'.repeat(60)}`));
    expect(watch.failure).toBeUndefined();
    watch.feed(Buffer.from('a'.repeat(60)));
    expect(watch.failure).toBe('a stream line is longer than 100 characters (proxy.limits.max_response_bytes)');
  });

  it('counts from the last line break: many short lines are never too long together', () => {
    const watch = new StreamWatch(openAiDialect.streamReader(), now, 100);
    const line = `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content: 'hi' } }] })}\n\n`;
    for (let i = 0; i < 50; i++) watch.feed(Buffer.from(line));
    watch.feed(Buffer.from(`data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\r\rdata: [DONE]\n\n`));
    expect(watch.failure).toBeUndefined();
    expect(watch.end()).toMatchObject({ ok: true, reply: { content: 'hi'.repeat(50) } });
  });
});

describe('a streamed answer with a line longer than max_response_bytes', () => {
  it('reaches the client whole and counts as bad_response (the line spans several reads)', async () => {
    const long = `data: {"model":"blue-model","choices":[{"index":0,"delta":{"content":"${'x'.repeat(300_000)}"}}]}\n\ndata: [DONE]\n\n`;
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(long);
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { max_response_bytes: 1000 } }' }), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const res = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"model":"blue-model","stream":true,"messages":[]}' });
    expect(await res.text()).toBe(long);
    await until(() => running.proxy.metrics.snapshot().arms.blue.requests === 1, 'the stream recorded');
    expect(running.proxy.metrics.snapshot().arms.blue.failuresByClass).toEqual({ bad_response: 1 });
  });
});
