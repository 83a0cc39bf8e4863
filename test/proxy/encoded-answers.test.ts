// An upstream that compresses its answer though the proxy asked for identity (accept-encoding: identity): the
// proxy decodes it on its way (gzip, deflate, br), so an echoed key is still redacted and the answer still judged,
// and passes it on without its content-encoding; an answer it cannot decode is the arm's bad_response.
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { eventLoopTurns } from '../helpers/turns.js';
import { chatChunk } from './green-opening.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY, type Running } from './helpers.js';

const ENCODE: Record<string, (text: string) => Buffer> = {
  gzip: (text) => gzipSync(text),
  deflate: (text) => deflateSync(text),
  br: (text) => brotliCompressSync(text),
};

/** A proxy on an upstream whose arms answer with `answer(model, stream, res)`. */
async function proxyOn(answer: (model: string, stream: boolean, res: ServerResponse) => void, greenWeight = 0): Promise<Running> {
  const scripted = await scriptedServer((_req, res, body) => {
    const parsed = JSON.parse(body) as { model: string; stream?: boolean };
    answer(parsed.model, parsed.stream === true, res);
  });
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ fallback: true }' }), { env: { UPSTREAM_KEY } });
  setRoute(running.proxy, greenWeight);
  return running;
}

/** A chat request through the proxy, read raw: status, headers and the bytes as the proxy sent them. */
async function ask(running: Running, stream: boolean) {
  // fetch would decode a content-encoding itself: the raw bytes are what the proxy sent.
  const res = await fetch(`${running.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'accept-encoding': 'identity' },
    body: JSON.stringify({ model: 'blue-model', stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const STREAM = (model: string, text: string) => chatChunk(model, { role: 'assistant', content: text }, 'stop') + 'data: [DONE]\n\n';

describe('an upstream answer encoded though the proxy asked for identity', () => {
  it.each(Object.keys(ENCODE))('is decoded (%s) and its echoed key redacted, whole or streamed, and judged', async (encoding) => {
    const echo = `your key is ${UPSTREAM_KEY}`;
    const running = await proxyOn((model, stream, res) => {
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json', 'content-encoding': encoding });
      res.end((ENCODE[encoding] as (text: string) => Buffer)(stream ? STREAM(model, echo) : openAiCompletion(model, echo)));
    });
    for (const stream of [false, true]) {
      const answer = await ask(running, stream);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-encoding')).toBeNull();
      expect(answer.text).toContain('your key is [redacted]');
      expect(answer.text).not.toContain(UPSTREAM_KEY.slice(0, 12));
    }
    const figures = running.proxy.metrics.snapshot();
    expect(figures.arms.blue.failures).toBe(0);
    expect(figures.arms.blue.requests).toBe(2);
  });

  it("is decoded on green's stream chunk by chunk, its text reaching the client as green's", async () => {
    const running = await proxyOn((model, _stream, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      const whole = gzipSync(STREAM(model, 'green says hi'));
      // In two writes, cut in the middle of the compressed bytes.
      res.write(whole.subarray(0, 10), () => res.end(whole.subarray(10)));
    }, 1);
    const answer = await ask(running, true);
    expect(answer.headers.get('x-bluegreen-arm')).toBe('green');
    expect(answer.text).toContain('green says hi');
    expect(running.proxy.metrics.snapshot().arms.green.failures).toBe(0);
  });

  it.each([
    ['corrupt gzip', 'gzip', Buffer.from('not gzip at all, plainly')],
    ['an encoding the proxy does not decode', 'zstd', Buffer.from('(\u00b5/\u00fd compressed bytes)')],
  ])("on green, %s is green's bad_response and blue answers", async (_what, encoding, bytes) => {
    const running = await proxyOn((model, stream, res) => {
      if (model === 'blue-model') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(openAiCompletion(model, 'blue says hi'));
      }
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json', 'content-encoding': encoding });
      res.end(bytes);
    }, 1);
    const answer = await ask(running, false);
    expect(answer.headers.get('x-bluegreen-arm')).toBe('blue');
    expect(answer.headers.get('x-bluegreen-fallback')).toBe('true');
    expect(answer.text).toContain('blue says hi');
    expect(running.proxy.metrics.snapshot().arms.green.failuresByClass).toEqual({ bad_response: 1 });
  });

  it.each([
    ['an empty body', (_encoding: string) => Buffer.alloc(0)],
    ['a body that does not decode', (_encoding: string) => Buffer.from('not compressed at all, plainly')],
  ])('on a 429 or 503 in %s, is settled by its status, its retry-after passed on (review32: "did not decode")', async (_what, body) => {
    for (const encoding of Object.keys(ENCODE)) {
      for (const status of [429, 503]) {
        const running = await proxyOn((_model, _stream, res) => {
          res.writeHead(status, { 'content-type': 'application/json', 'content-encoding': encoding, 'retry-after': '7' });
          res.end(body(encoding));
        });
        const answer = await ask(running, false);
        expect(answer.status).toBe(status);
        expect(answer.headers.get('retry-after')).toBe('7');
        const classes = running.proxy.metrics.snapshot().arms.blue.failuresByClass;
        expect(classes).not.toHaveProperty('bad_response');
        expect(Object.values(classes)).toEqual([1]);
      }
    }
  });

  it.each(Object.keys(ENCODE))('relays an empty 2xx labelled %s as empty (review32: it failed)', async (encoding) => {
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding });
      res.end();
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: "{ passthrough: '*' }" }), { env: { UPSTREAM_KEY } });
    const res = await fetch(`${running.baseUrl}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'identity' },
      body: JSON.stringify({ model: 'an-embedding-model', input: 'hi' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(await res.text()).toBe('');
  });

  it('is decoded on a model list too, its echoed key redacted', async () => {
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ object: 'list', data: [{ id: 'blue-model', object: 'model', owned_by: UPSTREAM_KEY }] })));
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const res = await fetch(`${running.baseUrl}/models`, { headers: { 'accept-encoding': 'identity' } });
    expect(res.headers.get('content-encoding')).toBeNull();
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ data: [{ id: 'blue-model', owned_by: '[redacted]' }] });
  });

  it.each([
    ['decodes past max_response_bytes', gzipSync('x'.repeat(20000)), 'in a body that decodes to more than 10000 bytes (proxy.limits.max_response_bytes)'],
    ['is not gzip', Buffer.from('not gzip at all, plainly'), 'could not decode (content-encoding: "gzip"; not valid gzip: Z_DATA_ERROR)'],
  ])('on a model list that %s, says which (review32: both were "could not decode")', async (_what, bytes, says) => {
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bytes);
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { max_response_bytes: 10000 } }' }), { env: { UPSTREAM_KEY } });
    const res = await fetch(`${running.baseUrl}/models`);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(says);
  });

  it('reaches a client that reads slowly whole: the decoded bytes wait for it, and the upstream with them', async () => {
    // 4 MiB of text decoded from a few KiB: far past the socket buffers, so the client's pace pauses the decoder.
    const piece = chatChunk('blue-model', { content: 'x'.repeat(1000) });
    const running = await proxyOn((model, _stream, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.end(gzipSync(piece.repeat(4096) + STREAM(model, 'the end')));
    });
    const res = await fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'blue-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let size = 0;
    let tail = '';
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      size += part.value.length;
      tail = (tail + new TextDecoder().decode(part.value)).slice(-200);
      await eventLoopTurns(2);
    }
    expect(size).toBe(piece.length * 4096 + STREAM('blue-model', 'the end').length);
    expect(tail).toContain('the end');
    expect(running.proxy.metrics.snapshot().arms.blue.failures).toBe(0);
  });
});
