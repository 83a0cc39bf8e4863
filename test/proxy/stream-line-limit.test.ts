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
    const watch = new StreamWatch(() => openAiDialect.streamReader(), now, 100);
    watch.feed(Buffer.from(`data: {"x":"${'a'.repeat(60)}`));
    expect(watch.failure).toBeUndefined();
    watch.feed(Buffer.from('a'.repeat(60)));
    expect(watch.failure).toBe('a stream line is longer than 100 characters (proxy.limits.max_response_bytes)');
  });

  it('counts from the last line break: many short lines are never too long together', () => {
    const watch = new StreamWatch(() => openAiDialect.streamReader(), now, 100);
    const line = `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content: 'hi' } }] })}\n\n`;
    for (let i = 0; i < 50; i++) watch.feed(Buffer.from(line));
    watch.feed(Buffer.from(`data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\r\rdata: [DONE]\n\n`));
    expect(watch.failure).toBeUndefined();
    expect(watch.end()).toMatchObject({ ok: true, reply: { content: 'hi'.repeat(50) } });
  });

  it('fails a stream whose text passes the bound in short lines: the reader holds the text (hostile21)', () => {
    // Without the bound a 540 MB streamed answer passed V8's longest string in the reader and crashed the proxy.
    const watch = new StreamWatch(() => openAiDialect.streamReader(), now, 100);
    const line = `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta: { content: 'x'.repeat(30) } }] })}\n\n`;
    for (let i = 0; i < 3; i++) watch.feed(Buffer.from(line));
    expect(watch.failure).toBeUndefined();
    watch.feed(Buffer.from(line));
    expect(watch.failure).toBe("the answer's text is longer than 100 characters (proxy.limits.max_response_bytes)");
  });

  it('a reader that throws fails the stream, not the process (chunks are read on a tick after their write)', () => {
    const throwing = {
      event: () => {
        throw new RangeError('Invalid string length');
      },
      finish: () => ({ ok: true as const, reply: { content: '' } }),
    };
    const watch = new StreamWatch(() => throwing, now, 100);
    watch.feedAfterWrite(Buffer.from('data: {}\n\n'));
    watch.readWritten();
    expect(watch.failure).toBe('the stream could not be read: Invalid string length');
    expect(watch.end()).toEqual({ ok: false, reason: 'the stream could not be read: Invalid string length' });
    // A last event without its blank line is read at the end: the same there.
    const unended = new StreamWatch(() => throwing, now, 100);
    unended.feed(Buffer.from('data: {}'));
    expect(unended.end()).toEqual({ ok: false, reason: 'the stream could not be read: Invalid string length' });
  });
});

/** Streams `long` through a proxy whose max_response_bytes is 1000: it must reach the client whole and count as bad_response. */
async function expectPassedWholeAsBadResponse(long: string): Promise<void> {
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
}

describe('a streamed answer past max_response_bytes', () => {
  it('reaches the client whole and counts as bad_response when a line is longer (the line spans several reads)', async () => {
    await expectPassedWholeAsBadResponse(
      `data: {"model":"blue-model","choices":[{"index":0,"delta":{"content":"${'x'.repeat(300_000)}"}}]}\n\ndata: [DONE]\n\n`,
    );
  });

  it('reaches the client whole and counts as bad_response when its text, in short lines, passes the limit', async () => {
    const line = `data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: { content: 'x'.repeat(100) } }] })}\n\n`;
    await expectPassedWholeAsBadResponse(`${line.repeat(20)}data: [DONE]\n\n`);
  });
});
