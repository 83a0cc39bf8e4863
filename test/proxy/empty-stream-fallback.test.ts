// A green stream that opens with its terminator and nothing before it (`data: [DONE]` alone: a relay whose provider
// failed, answering an empty stream) is no answer, and the proxy knows it before sending a byte: its first event is
// held while blue can answer. Blue answers it, as it does an error event there; green is charged a bad_response.
// Without fallback (or on blue) it passes as it came, still counted as the arm's bad_response.
import { describe, expect, it } from 'vitest';
import { streamThrough } from './green-opening.js';
import { runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY, type Running } from './helpers.js';

const chunk = (model: string, content: string) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content }, finish_reason: 'stop' }] })}\n\n`;
const DONE = 'data: [DONE]\n\n';

/** Blue streams "blue says hi"; green answers an empty stream: its terminator alone. */
async function proxyWithEmptyGreen(fallback: boolean): Promise<Running> {
  const scripted = await scriptedServer((_req, res, body) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const model = (JSON.parse(body) as { model: string }).model;
    res.end(model === 'blue-model' ? chunk(model, 'blue says hi') + DONE : DONE);
  });
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: `{ fallback: ${fallback} }` }), { env: { UPSTREAM_KEY } });
  setRoute(running.proxy, 1);
  return running;
}

describe('a green stream that is its terminator alone (data: [DONE], no chunk)', () => {
  it('is answered by blue: nothing of it reached the client, and green is charged a bad_response', async () => {
    const running = await proxyWithEmptyGreen(true);
    expect(await streamThrough(running)).toEqual({ text: 'blue says hi', arm: 'blue', fallback: 'true' });
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(1);
    expect(figures.arms.green.failuresByClass).toEqual({ bad_response: 1 });
  });

  it('is passed on as it came when no fallback is possible, and still counted as a bad_response', async () => {
    const running = await proxyWithEmptyGreen(false);
    expect(await streamThrough(running)).toEqual({ text: '', arm: 'green', fallback: null });
    const figures = running.proxy.metrics.snapshot();
    expect(figures.fallbacks).toBe(0);
    expect(figures.arms.green.failuresByClass).toEqual({ bad_response: 1 });
  });
});
