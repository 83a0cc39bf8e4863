// A proxy on a scripted upstream whose blue streams "blue says hi" and whose green opens its stream with `opening`,
// then runs the test's script once the proxy has read that opening; and the OpenAI SDK streaming through it. Shared
// by the tests of what the proxy holds of a green stream's start while blue can still answer.
import OpenAI from 'openai';
import type { ServerResponse } from 'node:http';
import { eventLoopTurns } from '../helpers/turns.js';
import { runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY, type Running } from './helpers.js';

/** A chat stream chunk of `model` with `delta`. */
export const chatChunk = (model: string, delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

const BLUE_ANSWER = chatChunk('blue-model', { role: 'assistant', content: 'blue says hi' }, 'stop') + 'data: [DONE]\n\n';

/**
 * The proxy, all traffic on green, with fallback. `timeouts` replaces the scripted plan's `from` timeout with `to`
 * ('request: 5s' -> 'request: 300ms', say).
 */
export async function proxyWithGreen(opening: string, then: (res: ServerResponse) => void, timeouts?: { from: string; to: string }): Promise<Running> {
  const scripted = await scriptedServer((_req, res, body) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if ((JSON.parse(body) as { model: string }).model === 'blue-model') return void res.end(BLUE_ANSWER);
    // In the same process as the proxy: turns of the event loop after the write let the proxy read the opening as a
    // chunk of its own before anything follows it.
    res.write(opening, () => void eventLoopTurns(5).then(() => then(res)));
  });
  const plan = scriptedPlan(scripted.url, { proxy: '{ fallback: true }' });
  const running = await runProxy(timeouts ? plan.replace(timeouts.from, timeouts.to) : plan, { env: { UPSTREAM_KEY } });
  setRoute(running.proxy, 1);
  return running;
}

/** A streamed request through the proxy by the OpenAI SDK: the text read, the arm and the fallback headers. */
export async function streamThrough(running: Running) {
  const client = new OpenAI({ baseURL: running.baseUrl, apiKey: 'unused', maxRetries: 0 });
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'blue-model', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    .withResponse();
  let text = '';
  for await (const part of stream) text += part.choices[0]?.delta.content ?? '';
  return { text, arm: response.headers.get('x-bluegreen-arm'), fallback: response.headers.get('x-bluegreen-fallback') };
}
