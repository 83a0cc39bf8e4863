// An upstream that sends without end (a broken relay, a wrong base_url) must not be held in memory until the
// request timeout: past MAX_ANSWER_BYTES the answer is a bad_response and the rest is not read (hostile20: a
// rollout whose upstream did this reached 2.7 GB of memory, and this test's worker 7.6 GB without the limit).
import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../src/upstream/answer-limit.js';
import { scriptedClient, type Handler } from './server.js';

const MIB = Buffer.alloc(1 << 20, 'a');

/**
 * Writes `start`, then 1 MiB blocks up to four times the limit, as long as the client reads them, then ends: so a
 * client without the limit reads it all (and fails on something else) rather than until its memory runs out.
 */
function oversized(contentType: string, start = ''): Handler {
  return (_req, res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': contentType });
    if (start) res.write(start);
    let left = (4 * MAX_ANSWER_BYTES) / MIB.length;
    const pump = (): void => {
      while (!res.destroyed && left > 0) {
        left--;
        if (!res.write(MIB)) return;
      }
      if (left === 0) res.end();
    };
    res.on('drain', pump);
    res.on('close', () => res.off('drain', pump));
    pump();
  };
}

// Timeouts far beyond what reading the answer on loopback takes, even on a loaded machine.
const upstream = { timeout: { connectMs: 1000, requestMs: 100_000, idleMs: 100_000 }, retries: { max: 0, baseDelayMs: 1, maxDelayMs: 1 } };

describe('an upstream answer larger than any answer', () => {
  it('is a bad_response once it is larger than the limit (an answer read whole)', async () => {
    const { client, server } = await scriptedClient(oversized('application/json', '{"choices":['), {
      model: 'm',
      apiKey: 'sk-test-answer-size',
      upstream,
      random: () => 0,
    });
    const result = await client.send({ messages: [{ role: 'user', content: 'hi' }], stream: false, maxTokens: 5, params: {}, source: 'synthetic' });
    expect(result).toMatchObject({ ok: false, failure: 'bad_response', attempts: 1 });
    expect(result.errorMessage).toContain(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
    expect(server.requests).toHaveLength(1);
  });

  it('is a bad_response once a stream line is longer than the limit', async () => {
    const { client } = await scriptedClient(oversized('text/event-stream', 'data: {"choices":[{"delta":{"content":"'), {
      model: 'm',
      apiKey: 'sk-test-answer-size',
      upstream,
      random: () => 0,
    });
    const result = await client.send({ messages: [{ role: 'user', content: 'hi' }], stream: true, maxTokens: 5, params: {}, source: 'synthetic' });
    expect(result).toMatchObject({ ok: false, failure: 'bad_response' });
    expect(result.errorMessage).toContain(`a stream line is longer than ${MAX_ANSWER_BYTES} characters`);
  });

  it('still reads a stream longer than the limit whose lines are short', async () => {
    const chunk = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'x'.repeat(1000) } }] })}\n\n`;
    const count = Math.ceil(MAX_ANSWER_BYTES / chunk.length) + 10;
    const done = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;
    const long: Handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(chunk.repeat(count) + done);
    };
    const { client } = await scriptedClient(long, { model: 'm', apiKey: 'sk-test-answer-size', upstream, random: () => 0 });
    const result = await client.send({ messages: [{ role: 'user', content: 'hi' }], stream: true, maxTokens: 5, params: {}, source: 'synthetic' });
    expect(result).toMatchObject({ ok: true });
    expect(result.content).toHaveLength(count * 1000);
  });

  it("is a bad_response once the stream's text is longer than the limit, though its lines are short", async () => {
    // hostile21: endless short lines grew the reader's text without bound (V8's longest string, ~512 MiB, was
    // the only end); without the bound this client reads all four times the limit and calls it a success.
    const line = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'x'.repeat(64 * 1024) } }] })}\n\n`;
    const chunk = Buffer.from(line.repeat(16));
    const endless: Handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let left = Math.ceil((4 * MAX_ANSWER_BYTES) / (16 * 64 * 1024));
      const pump = (): void => {
        while (!res.destroyed && left > 0) {
          left--;
          if (!res.write(chunk)) return;
        }
        if (left === 0) res.end('data: [DONE]\n\n');
      };
      res.on('drain', pump);
      res.on('close', () => res.off('drain', pump));
      pump();
    };
    const { client } = await scriptedClient(endless, { model: 'm', apiKey: 'sk-test-answer-size', upstream, random: () => 0 });
    const result = await client.send({ messages: [{ role: 'user', content: 'hi' }], stream: true, maxTokens: 5, params: {}, source: 'synthetic' });
    expect(result).toMatchObject({ ok: false, failure: 'bad_response' });
    expect(result.errorMessage).toContain(`the answer's text is longer than ${MAX_ANSWER_BYTES} characters`);
  });
});
