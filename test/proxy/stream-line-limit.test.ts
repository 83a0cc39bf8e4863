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

  it('fails an event whose data lines, each short, pass the bound together before its blank line (hostile22)', () => {
    // The parser joins an event's data lines until the blank line that ends it: an upstream that never sends one
    // grew that text without end, each line under the line bound and no text counted yet.
    const watch = new StreamWatch(() => openAiDialect.streamReader(), now, 100);
    for (let i = 0; i < 4; i++) watch.feed(Buffer.from(`data: ${'1,'.repeat(10)}\n`));
    expect(watch.failure).toBeUndefined();
    watch.feed(Buffer.from(`data: ${'1,'.repeat(10)}\n`));
    expect(watch.failure).toBe("an event's data is longer than 100 characters (proxy.limits.max_response_bytes)");
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

/**
 * Streams `parts` through a proxy whose max_response_bytes is 1000, each once the client has all before it (so no
 * two reach the proxy as one read): it must reach the client whole and count as bad_response.
 */
async function expectPassedWholeAsBadResponse(...parts: string[]): Promise<void> {
  const opened: (() => void)[] = [];
  const gates = parts.map((_part, index) => (index === 0 ? Promise.resolve() : new Promise<void>((resolve) => opened.push(resolve))));
  const scripted = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    void (async () => {
      for (const [index, part] of parts.entries()) {
        await gates[index];
        res.write(part);
      }
      res.end();
    })();
  });
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { max_response_bytes: 1000 } }' }), { env: { UPSTREAM_KEY } });
  setRoute(running.proxy, 0);
  const res = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"model":"blue-model","stream":true,"messages":[]}' });
  let text = '';
  let next = 1;
  const decoder = new TextDecoder();
  for await (const chunk of res.body ?? []) {
    text += decoder.decode(chunk, { stream: true });
    if (next < parts.length && text.length >= parts.slice(0, next).join('').length) opened[next++ - 1]?.();
  }
  expect(text).toBe(parts.join(''));
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

  it('reaches the client whole and counts as bad_response when the data lines of one event pass the limit (hostile22)', async () => {
    // Joined, the lines are valid JSON: without the bound the event was read (text "x") and the stream counted as good.
    const first = 'data: {"model":"blue-model","choices":[{"index":0,"delta":{"content":"x"}}],"pad":[\n';
    await expectPassedWholeAsBadResponse(`${first}${'data: 1,\n'.repeat(1000)}`, 'data: 0]}\n\ndata: [DONE]\n\n');
  });
});
