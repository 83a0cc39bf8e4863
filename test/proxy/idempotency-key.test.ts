// An application's idempotency key went unchanged to green's attempt, to blue's answer for it and to a mirror
// copy. An upstream honouring it, serving both models on one account, could answer blue's fallback with green's
// stored failure (or refuse another body under the same key), and a mirror copy took the key of the application's
// own request. Now blue gets the key as sent, green a key derived from it (the same for the same key), a mirror
// copy none. Real proxy and a scripted upstream recording the headers it got, on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { greenIdempotencyKey } from '../../src/proxy/idempotency.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY } from './helpers.js';

const BODY = '{"model":"blue-model","messages":[{"role":"user","content":"hi"}]}';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Green fails 500 (or answers, `greenFails` false), blue answers; `onGreen` hears each request green gets. */
async function upstream(greenFails: boolean, onGreen: () => void = () => {}) {
  return scriptedServer((_req, res, body) => {
    const model = (JSON.parse(body) as { model: string }).model;
    if (model === 'green-model') onGreen();
    if (model === 'green-model' && greenFails) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"green is down","type":"server_error"}}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(openAiCompletion(model, 'hello there, an answer'));
  });
}

function send(url: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: BODY });
}

describe('an idempotency key', () => {
  it.each(['idempotency-key', 'x-idempotency-key'])('%s: green gets its own derived key, blue falling back for it the one sent', async (header) => {
    const scripted = await upstream(true);
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ fallback: true }' }), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    for (let retry = 0; retry < 2; retry++) {
      const res = await send(running.proxy.url, { [header]: 'req-0001' });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-bluegreen-fallback')).toBe('true');
      await res.arrayBuffer();
    }
    const keys = scripted.seen.map((seen) => [(JSON.parse(seen.body) as { model: string }).model, seen.headers[header]]);
    const green = greenIdempotencyKey('req-0001');
    expect(green).toMatch(UUID);
    // The application's retry carries the same key to each arm again: each arm's upstream still dedupes it.
    expect(keys).toEqual([
      ['green-model', green],
      ['blue-model', 'req-0001'],
      ['green-model', green],
      ['blue-model', 'req-0001'],
    ]);
    expect(greenIdempotencyKey('req-0002')).not.toBe(green);
  });

  it('is not sent with a mirror copy; blue gets it as sent', async () => {
    let greenSeen!: () => void;
    const copied = new Promise<void>((resolve) => (greenSeen = resolve));
    const scripted = await upstream(false, () => greenSeen());
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0, 1);
    const res = await send(running.proxy.url, { 'idempotency-key': 'req-0001', 'x-idempotency-key': 'req-0001', 'anthropic-beta': 'kept' });
    expect(res.headers.get('x-bluegreen-arm')).toBe('blue');
    await res.arrayBuffer();
    await copied;
    const byModel = new Map(scripted.seen.map((seen) => [(JSON.parse(seen.body) as { model: string }).model, seen.headers]));
    expect(byModel.get('blue-model')?.['idempotency-key']).toBe('req-0001');
    expect(byModel.get('blue-model')?.['x-idempotency-key']).toBe('req-0001');
    expect(byModel.get('green-model')?.['idempotency-key']).toBeUndefined();
    expect(byModel.get('green-model')?.['x-idempotency-key']).toBeUndefined();
    expect(byModel.get('green-model')?.['anthropic-beta']).toBe('kept');
  });
});
