// Findings of the hostile review of the proxy: a malformed stream chunk, an upstream echoing its key in an
// answer, a body naming its model twice. Real servers on 127.0.0.1.
import { request } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { completionServer, openAiCompletion, rawExchange, runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, text: await res.text() };
}

/** An upstream answering every request with a completion of the model it was asked for (and recording each body). */
function modelEchoServer() {
  return scriptedServer((_req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(openAiCompletion((JSON.parse(body) as { model: string }).model, 'ok'));
  });
}

describe('a stream chunk the fast path cannot decode', () => {
  it('passes the upstream bytes through whole and counts a bad_response, not a broken connection', async () => {
    const events = [
      '{"model":"blue-model","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}',
      // An invalid escape: the chunk is not JSON.
      '{"model":"blue-model","choices":[{"index":0,"delta":{"content":"a\\q"}}]}',
      '{"model":"blue-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
      '[DONE]',
    ];
    const stream = events.map((data) => `data: ${data}\n\n`).join('');
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(stream);
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const answer = await post(running.baseUrl, '{"model":"blue-model","stream":true,"messages":[]}');
    expect(answer.status).toBe(200);
    expect(answer.text).toBe(stream);
    const blue = running.proxy.metrics.snapshot().arms.blue;
    expect(blue.failuresByClass.bad_response).toBe(1);
    expect(blue.failuresByClass.connection ?? 0).toBe(0);
  });
});

describe('an upstream echoing its key in a successful answer', () => {
  it('never passes the key to the client', async () => {
    const scripted = await scriptedServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', `you sent ${req.headers.authorization ?? ''}`));
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const answer = await post(running.baseUrl, '{"model":"blue-model","messages":[]}');
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain(UPSTREAM_KEY.slice(0, 12));
    expect(answer.text).toContain('[redacted]');
  });
});

describe('an upstream echoing its key in a streamed answer', () => {
  it('passes the chunk that quotes it redacted, and the rest of the stream untouched', async () => {
    const scripted = await scriptedServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (content: string) => `data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: { content } }] })}\n\n`;
      res.end(`${chunk('you sent ')}${chunk(req.headers.authorization ?? '')}${chunk(' ok')}data: [DONE]\n\n`);
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const answer = await post(running.baseUrl, '{"model":"blue-model","stream":true,"messages":[]}');
    expect(answer.status).toBe(200);
    expect(answer.text).not.toContain(UPSTREAM_KEY.slice(0, 12));
    expect(answer.text).toContain('[redacted]');
    expect(answer.text).toContain('"content":"you sent "');
    expect(answer.text).toContain('data: [DONE]');
  });
});

describe('a body naming its model twice', () => {
  it('is never sent upstream with both names (the upstream might read the other one)', async () => {
    const scripted = await modelEchoServer();
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const answer = await post(running.baseUrl, '{"model":"other-model","messages":[],"model":"blue-model"}');
    expect(answer.status).toBe(200);
    expect(scripted.seen.at(-1)?.body).toBe('{"model":"blue-model","messages":[]}');
  });

  it('naming stream twice is sent with the one the proxy read (it reads the answer as a stream or not by it)', async () => {
    const scripted = await modelEchoServer();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: "{ passthrough: ['other-model'] }" }), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    expect((await post(running.baseUrl, '{"model":"blue-model","stream":true,"messages":[],"stream":false}')).status).toBe(200);
    expect(scripted.seen.at(-1)?.body).toBe('{"model":"blue-model","stream":false,"messages":[]}');
    expect((await post(running.baseUrl, '{"model":"other-model","stream":true,"messages":[],"stream":false}')).status).toBe(200);
    expect(scripted.seen.at(-1)?.body).toBe('{"model":"other-model","stream":false,"messages":[]}');
    // One stream key: the bytes go as the application sent them.
    expect((await post(running.baseUrl, '{"model":"blue-model","stream":false,"messages":[]}')).status).toBe(200);
    expect(scripted.seen.at(-1)?.body).toBe('{"model":"blue-model","stream":false,"messages":[]}');
  });

  it('cannot slip a model past proxy.passthrough: the model the list let through is the only one sent', async () => {
    const scripted = await modelEchoServer();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ passthrough: [gpt-4o-mini] }' }), { env: { UPSTREAM_KEY } });
    // The list is checked on the last key (JSON.parse); an upstream whose parser takes the first would serve o1-pro.
    const answer = await post(running.baseUrl, '{"model":"o1-pro","messages":[],"model":"gpt-4o-mini"}');
    expect(answer.status).toBe(200);
    expect(scripted.seen.at(-1)?.body).toBe('{"model":"gpt-4o-mini","messages":[]}');
    // Spelled with an escape, the key is "model" to JSON.parse but not to a scan for the plain name.
    await post(running.baseUrl, '{"mod\\u0065l":"o1-pro","model":"gpt-4o-mini","messages":[]}');
    expect(scripted.seen.at(-1)?.body).toBe('{"model":"gpt-4o-mini","messages":[]}');
    // A body naming its model once is passed on byte for byte, as before.
    await post(running.baseUrl, '{ "model" : "gpt-4o-mini", "messages": [], "temperature": 1.0 }');
    expect(scripted.seen.at(-1)?.body).toBe('{ "model" : "gpt-4o-mini", "messages": [], "temperature": 1.0 }');
  });
});

// hostile15 (orphan16): a `stream` key spelled with an escape ("str\u0065am") is "stream" to JSON.parse, whose last
// duplicate wins, but not to a scan for the plain name. The upstream must get the stream flag the proxy read (and
// answers as a stream or not by it): such a body is re-serialised, one `stream` key left, the proxy's.
describe('a body whose stream key is spelled with an escape', () => {
  it('reaches the upstream with one stream key, the value the proxy read (last duplicate wins, as JSON.parse)', async () => {
    const scripted = await modelEchoServer();
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    await post(running.baseUrl, '{"model":"blue-model","stream":false,"str\\u0065am":true,"messages":[]}');
    expect(scripted.seen.at(-1)?.body).toBe('{"model":"blue-model","stream":true,"messages":[]}');
    await post(running.baseUrl, '{"str\\u0065am":true,"model":"blue-model","stream":false,"messages":[]}');
    expect(scripted.seen.at(-1)?.body).toBe('{"stream":false,"model":"blue-model","messages":[]}');
    // To green (the model spliced) and passed through (another model) alike.
    setRoute(running.proxy, 1);
    await post(running.baseUrl, '{"model":"blue-model","stream":true,"str\\u0065am":false,"messages":[]}');
    expect(scripted.seen.at(-1)?.body).toBe('{"model":"green-model","stream":false,"messages":[]}');
    await post(running.baseUrl, '{"model":"other-model","str\\u0065am":false,"messages":[]}');
    expect(scripted.seen.at(-1)?.body).toBe('{"model":"other-model","stream":false,"messages":[]}');
  });
});

describe('a body nested thousands of levels deep', () => {
  it('that must be re-serialised is refused with 400, not an internal error (502) logged per request', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    // Naming its model twice, it is re-serialised (JSON.stringify recurses; JSON.parse read it whole).
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`;
    const answer = await post(running.baseUrl, `{"model":"x","model":"blue-model","messages":[],"deep":${deep}}`);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('the request body nests too deeply');
    expect(scripted.seen).toHaveLength(0);
    expect(running.logs).toEqual([]);
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(1);
  });
});

describe("the upstream's response headers", () => {
  it("pass on without the upstream account's cookies and organisation, and never claim a fallback that did not happen", async () => {
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': '__cf_bm=upstream-session; path=/',
        'openai-organization': 'org-operator',
        'openai-project': 'proj_operator',
        'x-bluegreen-fallback': 'true',
        'x-request-id': 'req-1',
      });
      res.end(openAiCompletion('blue-model', 'ok'));
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const res = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"model":"blue-model","messages":[]}' });
    await res.text();
    expect(res.headers.get('x-request-id')).toBe('req-1');
    expect(res.headers.get('x-bluegreen-arm')).toBe('blue');
    for (const name of ['set-cookie', 'openai-organization', 'openai-project', 'x-bluegreen-fallback']) expect(res.headers.get(name)).toBeNull();
  });
});

describe("the application's request headers", () => {
  it('never say the body sent upstream is encoded (the proxy sends plain JSON of its own)', async () => {
    const scripted = await completionServer('green-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const res = await fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-encoding': 'identity', 'x-custom': 'kept' },
      body: '{"model":"blue-model","messages":[]}',
    });
    await res.text();
    expect(scripted.seen.at(-1)?.headers['content-encoding']).toBeUndefined();
    expect(scripted.seen.at(-1)?.headers['x-custom']).toBe('kept');
  });
});

describe('a compressed request body', () => {
  it('is refused with 400 saying so (the proxy decodes none), never forwarded', async () => {
    const scripted = await completionServer('green-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const plain = '{"model":"blue-model","messages":[]}';
    // A real gzip body used to be refused as "not UTF-8"; one labelled br that was plain JSON was read as plain.
    for (const [encoding, body] of [
      ['gzip', gzipSync(plain)],
      ['br', plain],
    ] as const) {
      const res = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-encoding': encoding }, body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        `the request body is sent with content-encoding: ${encoding}; this proxy reads plain JSON bodies only: send it uncompressed`,
      );
    }
    expect(scripted.seen).toHaveLength(0);
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(2);
  });

  it('is refused when sent with a transfer coding other than chunked (Node reads `gzip, chunked` as plain chunked)', async () => {
    const scripted = await completionServer('green-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const plain = '{"model":"blue-model","messages":[]}';
    const chunked = `${Buffer.byteLength(plain).toString(16)}\r\n${plain}\r\n0\r\n\r\n`;
    const answer = await rawExchange(
      running.proxy.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n${chunked}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('the request body is sent with transfer-encoding: gzip, chunked; this proxy reads plain JSON bodies only');
    expect(scripted.seen).toHaveLength(0);
    // Plain chunked is read as ever.
    const ok = await rawExchange(
      running.proxy.port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`,
    );
    expect(ok).toMatch(/^HTTP\/1\.1 200 /);
  });
});

/** A raw request, so the test can set Host and Origin as a browser would. */
function rawSend(url: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A keyless proxy on blue in front of a completion server; `post` sends a chat body with the given headers. */
async function keylessProxy() {
  const scripted = await completionServer('blue-model', 'ok');
  const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
  setRoute(running.proxy, 0);
  const post = (headers: Record<string, string>) => rawSend(running.proxy.url, 'POST', '/v1/chat/completions', headers, '{"model":"blue-model","messages":[]}');
  const get = (path: string, headers: Record<string, string>) => rawSend(running.proxy.url, 'GET', path, headers);
  return { scripted, running, post, get, port: running.proxy.port };
}

describe('a web page reaching a keyless proxy on loopback through the browser', () => {
  it('is refused with 403 and never forwarded: DNS rebinding (a foreign Host) and cross-site posts (a foreign Origin)', async () => {
    const { scripted, running, post: send, port } = await keylessProxy();
    // A rebound name: the page's own origin, resolving to 127.0.0.1.
    expect(await send({ host: `evil.example:${port}`, origin: `http://evil.example:${port}` })).toBe(403);
    expect(await send({ host: `evil.example:${port}` })).toBe(403);
    // A simple cross-site POST (text/plain, no preflight) to the loopback address.
    expect(await send({ origin: 'https://evil.example', 'content-type': 'text/plain' })).toBe(403);
    expect(await send({ origin: 'null' })).toBe(403);
    expect(scripted.seen.filter((seen) => seen.path.endsWith('/chat/completions'))).toHaveLength(0);
    expect(running.proxy.metrics.snapshot().rejected.unauthorized).toBe(4);
    // Loopback names and origins are the proxy's own clients.
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect(await send({ host, origin: `http://${host}` })).toBe(200);
    }
    // The guard remembers the Host it let through last: an Origin is still checked with it, another Host afresh.
    expect(await send({ host: `[::1]:${port}`, origin: 'https://evil.example' })).toBe(403);
    expect(await send({ host: `evil.example:${port}` })).toBe(403);
    expect(await send({ host: `[::1]:${port}` })).toBe(200);
    expect(running.proxy.metrics.snapshot().rejected.unauthorized).toBe(6);
  });

  // hostile15 (orphan16): `localhost.` (the fully qualified name, trailing dot) is loopback too: no page of another
  // site can be named so. It was refused (403) by a keyless proxy.
  it('takes localhost. (a trailing dot) as a loopback name, in Host and Origin; another name with a dot is still refused', async () => {
    const { post: send, port } = await keylessProxy();
    expect(await send({ host: `localhost.:${port}`, origin: `http://localhost.:${port}` })).toBe(200);
    expect(await send({ host: `LOCALHOST.:${port}` })).toBe(200);
    expect(await send({ host: `evil.example.:${port}` })).toBe(403);
    expect(await send({ host: `localhost..:${port}` })).toBe(403);
    expect(await send({ host: `127.0.0.1:${port}`, origin: `http://evil.example.:${port}` })).toBe(403);
  });

  // hostile33: a page's <img src="http://127.0.0.1:8787/v1/models"> (or a no-cors GET) carries no Origin, only the
  // browser's Sec-Fetch-Site: cross-site, and was served: each one an upstream request with the operator's key, as
  // many as the page liked (up to max_concurrency, shutting the application out meanwhile).
  it('refuses a GET a browser marks cross-site without an Origin; a same-site one, or a loopback Origin, is served', async () => {
    const { scripted, running, get } = await keylessProxy();
    const upstreamReads = () => scripted.seen.filter((seen) => !seen.path.endsWith('/chat/completions')).length;
    const before = upstreamReads();
    expect(await get('/v1/models', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' })).toBe(403);
    expect(await get('/v1/responses/resp_1', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' })).toBe(403);
    expect(upstreamReads()).toBe(before);
    expect(running.proxy.metrics.snapshot().rejected.unauthorized).toBe(2);
    // A page of this machine (http://localhost:3000 calling 127.0.0.1 is cross-site too) names its loopback Origin.
    expect(await get('/v1/models', { 'sec-fetch-site': 'cross-site', origin: 'http://localhost:3000' })).toBe(200);
    expect(await get('/v1/models', { 'sec-fetch-site': 'same-site' })).toBe(200);
    expect(await get('/v1/models', {})).toBe(200);
  });
});

describe('a green stream whose first chunk is an error event', () => {
  it('is answered by blue (nothing reached the client yet) and counted as a green failure', async () => {
    const blueStream = [
      '{"model":"blue-model","choices":[{"index":0,"delta":{"role":"assistant","content":"fine"}}]}',
      '{"model":"blue-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
      '[DONE]',
    ]
      .map((data) => `data: ${data}\n\n`)
      .join('');
    const scripted = await scriptedServer((_req, res, body) => {
      const { model } = JSON.parse(body) as { model: string };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(model === 'green-model' ? 'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n' : blueStream);
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const res = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"model":"blue-model","stream":true,"messages":[]}' });
    expect(await res.text()).toBe(blueStream);
    expect([res.headers.get('x-bluegreen-arm'), res.headers.get('x-bluegreen-fallback')]).toEqual(['blue', 'true']);
    const figures = running.proxy.metrics.snapshot();
    expect(figures.arms.green.failuresByClass.bad_response).toBe(1);
    expect(figures.fallbacks).toBe(1);
  });

  it('is passed on as it came when no fallback is possible (blue, or fallback off)', async () => {
    const stream = 'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n';
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(stream);
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const res = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"model":"blue-model","stream":true,"messages":[]}' });
    expect([res.status, await res.text()]).toEqual([200, stream]);
  });
});

describe('an upstream answering a redirect', () => {
  it('is never passed on (a client following it would post its prompt there): blue gets 502, green falls back to blue', async () => {
    const scripted = await scriptedServer((_req, res, body) => {
      const { model } = JSON.parse(body) as { model: string };
      if (model === 'green-model' || model === 'blue-model-redirecting') {
        res.writeHead(307, { location: 'http://127.0.0.1:9/elsewhere', 'content-type': 'text/plain' });
        res.end('moved');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', 'from blue'));
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: "{ passthrough: ['blue-model-redirecting'] }" }), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const green = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"model":"blue-model","messages":[]}', redirect: 'manual' });
    expect([green.status, green.headers.get('x-bluegreen-fallback'), green.headers.get('location')]).toEqual([200, 'true', null]);
    expect(await green.text()).toContain('from blue');
    expect(running.proxy.metrics.snapshot().arms.green.failuresByClass).toEqual({ bad_response: 1 });
    const blue = await fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      body: '{"model":"blue-model-redirecting","messages":[]}',
      redirect: 'manual',
    });
    expect([blue.status, blue.headers.get('location')]).toEqual([502, null]);
    expect(await blue.text()).toContain('answered a redirect (307)');
  });
});

describe('a streamed request answered with JSON', () => {
  it("is a green failure blue answers (the client could not read it as a stream); blue's goes on as it came", async () => {
    const blueStream = 'data: {"model":"blue-model","choices":[{"index":0,"delta":{"content":"fine"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';
    let blueJson = false;
    const scripted = await scriptedServer((_req, res, body) => {
      const { model } = JSON.parse(body) as { model: string };
      if (model === 'green-model' || blueJson) {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(openAiCompletion(model, 'not a stream'));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(blueStream);
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const body = '{"model":"blue-model","stream":true,"messages":[]}';
    const fell = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body });
    expect([fell.status, fell.headers.get('x-bluegreen-fallback'), await fell.text()]).toEqual([200, 'true', blueStream]);
    expect(running.proxy.metrics.snapshot().arms.green.failuresByClass).toEqual({ bad_response: 1 });
    // No fallback possible: the answer goes on as the upstream gave it, and counts as blue's bad_response.
    blueJson = true;
    setRoute(running.proxy, 0);
    const passed = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body });
    expect([passed.status, passed.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8']);
    expect(await passed.text()).toContain('not a stream');
    await until(() => running.proxy.metrics.snapshot().arms.blue.failures === 1, 'blue counted');
    expect(running.proxy.metrics.snapshot().arms.blue.failuresByClass).toEqual({ bad_response: 1 });
  });
});

describe('a client that stops reading a streamed answer', () => {
  it("is counted as a client abort when it reads nothing for the idle timeout, not as the arm's timeout", async () => {
    // Far more than the socket buffers hold, so the proxy is held back by the client, not by the upstream.
    const event = `data: {"model":"green-model","choices":[{"index":0,"delta":{"content":"${'x'.repeat(16_000)}"}}]}\n\n`;
    let upstreamClosed = false;
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.on('close', () => (upstreamClosed = true));
      const pump = (): void => {
        while (!res.destroyed && res.write(event));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const yaml = scriptedPlan(scripted.url).replace('idle: 2s', 'idle: 1s');
    const running = await runProxy(yaml, { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const body = '{"model":"blue-model","stream":true,"messages":[]}';
    // The client never reads past what the sockets buffer (a paused socket does not even see the close).
    const client = request(`${running.proxy.url}/v1/chat/completions`, { method: 'POST' }, (res) => res.pause());
    client.on('error', () => undefined);
    client.end(body);
    const proxy = running.proxy;
    await until(() => proxy.metrics.snapshot().arms.green.clientAborts + proxy.metrics.snapshot().arms.green.failures > 0, 'the attempt to end');
    client.destroy();
    const green = proxy.metrics.snapshot().arms.green;
    expect(green.failuresByClass).toEqual({});
    expect(green.clientAborts).toBe(1);
    expect(green.failuresByClass.timeout ?? 0).toBe(0);
    await until(() => upstreamClosed, 'the upstream request closed');
  });
});

describe('a request refused before its body is read', () => {
  it('gets its answer and the connection closed, so a 1 GiB body is never drained', async () => {
    const scripted = await scriptedServer((_req, res) => res.end());
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ client_keys_env: CLIENT_KEYS }' }), {
      env: { UPSTREAM_KEY, CLIENT_KEYS: 'client-key-0123456789abcdef' },
    });
    const url = new URL(running.proxy.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${2 ** 30}\r\n\r\n{"model":`);
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      // Closed by the proxy: the test never ends the socket itself.
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 401/);
    expect(reply.toLowerCase()).toContain('connection: close');
  });
});
