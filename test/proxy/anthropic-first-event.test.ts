// An Anthropic green stream fails after its opening events: message_start (and a block's start, pings) carry no
// text, and Anthropic's own example of a stream error is message_start then an `error` event (overloaded_error).
// While blue can answer, a green stream's start is held past those events, as a Responses stream's is past
// response.created: such a failure is answered by blue and the client sees none. A healthy green's held events go
// out with its first text.
import Anthropic from '@anthropic-ai/sdk';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { eventLoopTurns } from '../helpers/turns.js';
import { runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY, type Running } from './helpers.js';

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const start = (model: string) =>
  sse('message_start', {
    type: 'message_start',
    message: { id: 'msg_1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 1 } },
  });
const BLOCK_START = sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
const PING = sse('ping', { type: 'ping' });
const text = (words: string) => sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: words } });
const END =
  sse('content_block_stop', { type: 'content_block_stop', index: 0 }) +
  sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 4 } }) +
  sse('message_stop', { type: 'message_stop' });
const OVERLOADED = sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });

/** Blue streams "blue says hi"; green writes its opening events, and `then` runs once the proxy has read them. */
async function proxyWithGreen(opening: string, then: (res: ServerResponse) => void): Promise<Running> {
  const scripted = await scriptedServer((_req, res, body) => {
    const model = (JSON.parse(body) as { model: string }).model;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (model === 'blue-model') return void res.end(start(model) + BLOCK_START + text('blue says hi') + END);
    // In the same process as the proxy: turns of the event loop after the write let the proxy read the opening
    // events as a chunk of their own before anything follows them.
    res.write(opening, () => void eventLoopTurns(5).then(() => then(res)));
  });
  const running = await runProxy(scriptedPlan(scripted.url, { api: 'anthropic', proxy: '{ fallback: true }' }), { env: { UPSTREAM_KEY } });
  setRoute(running.proxy, 1);
  return running;
}

async function streamThrough(running: Running) {
  const client = new Anthropic({ baseURL: running.proxy.url, apiKey: 'unused', maxRetries: 0 });
  const { data: stream, response } = await client.messages
    .create({ model: 'blue-model', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  let said = '';
  for await (const event of stream) if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') said += event.delta.text;
  return { text: said, arm: response.headers.get('x-bluegreen-arm'), fallback: response.headers.get('x-bluegreen-fallback') };
}

describe('an Anthropic green stream failing after its opening events', () => {
  it('is answered by blue when an error event (overloaded_error) follows message_start', async () => {
    const running = await proxyWithGreen(start('green-model'), (res) => res.end(OVERLOADED));
    expect(await streamThrough(running)).toEqual({ text: 'blue says hi', arm: 'blue', fallback: 'true' });
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(1);
    expect(figures.arms.green.failuresByClass).toEqual({ bad_response: 1 });
  });

  it('is answered by blue when the connection breaks after message_start, a block start and a ping', async () => {
    const running = await proxyWithGreen(start('green-model') + BLOCK_START + PING, (res) => res.socket?.destroy());
    expect(await streamThrough(running)).toEqual({ text: 'blue says hi', arm: 'blue', fallback: 'true' });
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(1);
    expect(figures.arms.green.failuresByClass).toEqual({ connection: 1 });
  });

  it('reaches the client whole from green when its text follows: the held events go out first', async () => {
    const running = await proxyWithGreen(start('green-model') + BLOCK_START + PING, (res) => res.end(text('green says hi') + END));
    expect(await streamThrough(running)).toEqual({ text: 'green says hi', arm: 'green', fallback: null });
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(0);
    expect(figures.arms.green.failures).toBe(0);
  });
});
