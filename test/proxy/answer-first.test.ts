// The proxy sends what the client waits for before it reads it: a non-streamed answer no fallback can replace
// goes out before it is parsed, and a stream chunk before it is judged. What is judged must not change.
// Real servers on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY } from './helpers.js';

async function post(url: string, body: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A plan on a scripted upstream whose quality rule reads the content. */
function qualityPlan(url: string, proxy?: string): string {
  return `${scriptedPlan(url, proxy ? { proxy } : {})}analysis: { quality: { contains: "needle" } }\n`;
}

describe('a non-streamed answer no fallback can replace', () => {
  it('reaches the client byte for byte even when it cannot be read, and counts as bad_response', async () => {
    const body = '{"choices": [ not json';
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const answer = await post(running.baseUrl, '{"model":"blue-model","messages":[]}');
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(body);
    expect(answer.headers.get('x-bluegreen-arm')).toBe('blue');
    expect(answer.headers.get('content-length')).toBe(String(body.length));
    const blue = running.proxy.metrics.snapshot().arms.blue;
    expect(blue.failuresByClass.bad_response).toBe(1);
    expect(blue.successes).toBe(0);
  });

  it('is read after it went out: tokens, finish reason and the quality checks on its content are counted', async () => {
    let n = 0;
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', n++ === 0 ? 'a needle here' : 'nothing'));
    });
    const running = await runProxy(qualityPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    expect((await post(running.baseUrl, '{"model":"blue-model","messages":[]}')).text).toContain('a needle here');
    expect((await post(running.baseUrl, '{"model":"blue-model","messages":[]}')).text).toContain('nothing');
    const blue = running.proxy.metrics.snapshot().arms.blue;
    expect(blue.successes).toBe(2);
    expect(blue.qualityFailures).toBe(1);
    expect(blue.tokens.completion).toBe(8);
  });

  it('from green with fallback on is still read first: an unreadable green answer is replaced by blue', async () => {
    const scripted = await scriptedServer((_req, res, text) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text.includes('green-model') ? '{"broken":' : openAiCompletion('blue-model', 'from blue'));
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const answer = await post(running.baseUrl, '{"model":"blue-model","messages":[]}');
    expect(answer.text).toContain('from blue');
    expect(answer.headers.get('x-bluegreen-fallback')).toBe('true');
    const figures = running.proxy.metrics.snapshot();
    expect(figures.arms.green.failuresByClass.bad_response).toBe(1);
    expect(figures.fallbacks).toBe(1);
  });
});

describe('a streamed answer', () => {
  it('is judged whole though each chunk is read after it was written: content, TTFT, usage, finish reason', async () => {
    const events = [
      { model: 'blue-model', choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] },
      { model: 'blue-model', choices: [{ index: 0, delta: { content: 'a nee' } }] },
      { model: 'blue-model', choices: [{ index: 0, delta: { content: 'dle' } }] },
      { model: 'blue-model', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { model: 'blue-model', choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
    ];
    const wire = [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), 'data: [DONE]\n\n'];
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Separate writes on separate turns, one split inside an event (chunk boundaries the reader must bridge);
      // the last part and the end of the body together, as one read for the proxy.
      const [first = '', second = '', third = ''] = wire;
      const parts = [first + second.slice(0, 20), second.slice(20), third, wire.slice(3).join('')];
      const next = (i: number): void => {
        const part = parts[i] ?? '';
        if (i === parts.length - 1) return void res.end(part);
        res.write(part);
        setImmediate(() => next(i + 1));
      };
      next(0);
    });
    const running = await runProxy(qualityPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const answer = await post(running.baseUrl, '{"model":"blue-model","stream":true,"messages":[]}');
    expect(answer.text).toBe(wire.join(''));
    const blue = running.proxy.metrics.snapshot().arms.blue;
    expect(blue.successes).toBe(1);
    expect(blue.qualityFailures).toBe(0);
    expect(blue.ttft?.count).toBe(1);
    expect(blue.tokens.completion).toBe(2);
  });
});
