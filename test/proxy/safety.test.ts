// Client keys, the upstream key's confinement, limits, client disconnects, no open relay, the CLI's refusals.
import OpenAI from 'openai';
import { request as httpRequest, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runProxy as runProxyCommand } from '../../src/cli/commands/proxy.js';
import { runCli, testContext } from '../helpers/cli.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY, type Scripted } from './helpers.js';
import { until } from '../helpers/until.js';

const ask = { messages: [{ role: 'user' as const, content: 'hello there' }] };
const client = (baseURL: string, apiKey = 'unused') => new OpenAI({ baseURL, apiKey, maxRetries: 0 });
type ApiError = InstanceType<typeof OpenAI.APIError>;

async function answering(): Promise<Scripted> {
  return scriptedServer((req, res, body) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ object: 'list', data: [{ id: 'blue-model' }, { id: 'green-model' }] }));
    }
    const request = JSON.parse(body) as { model: string };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(openAiCompletion(request.model, 'an answer'));
  });
}

describe('client keys', () => {
  it("refuses a missing or wrong key with 401 in OpenAI's shape, and never forwards the client key", async () => {
    const scripted = await answering();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ client_keys_env: APP_KEYS }' }), {
      env: { UPSTREAM_KEY, APP_KEYS: 'app-key-one-0123456789, app-key-two-0123456789' },
    });
    const missing = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'blue-model', ...ask }) });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_api_key' } });
    for (const key of ['app-key-one-012345678', 'wrong']) {
      const error = await client(running.baseUrl, key)
        .chat.completions.create({ model: 'blue-model', ...ask })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((error as ApiError).code).toBe('invalid_api_key');
    }
    expect(scripted.seen).toHaveLength(0);
    const answer = await client(running.baseUrl, 'app-key-two-0123456789').chat.completions.create({ model: 'blue-model', ...ask });
    expect(answer.choices[0]?.message.content).toBe('an answer');
    const sent = scripted.seen[0];
    expect(sent?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(sent)).not.toContain('app-key');
    expect(running.proxy.metrics.snapshot().rejected.unauthorized).toBe(3);
  });

  it('with client keys, /metrics wants a client key or the admin token; /healthz stays open for probes', async () => {
    const scripted = await answering();
    const env = { UPSTREAM_KEY, APP_KEYS: 'app-key-one-0123456789', ADMIN_TOKEN: 'admin-token-0123456789' };
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ client_keys_env: APP_KEYS, admin: { token_env: ADMIN_TOKEN } }' }), { env });
    const metrics = (key?: string) => fetch(`${running.proxy.url}/metrics`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
    const refused = await metrics();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect((await metrics('admin-token-0123456788')).status).toBe(401);
    for (const key of [env.APP_KEYS, env.ADMIN_TOKEN]) {
      const scrape = await metrics(key);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toContain('bluegreen_proxy_rejected_total{reason="unauthorized"} 2');
    }
    const health = await fetch(`${running.proxy.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    // Under a lease the stored route names the plan, its models and why it was set: none of it is a probe's business.
    running.proxy.route.set({ greenWeight: 0.25, mirror: 0.5, leaseExpiresAt: Date.now() + 3_600_000, reason: 'stage 2/4 of proxy-scripted' });
    const leased = await (await fetch(`${running.proxy.url}/healthz`)).json();
    expect(leased).toEqual({ ok: true, route: { greenWeight: 0.25, mirror: 0.5 }, inFlight: 0 });
  });
});

describe('the upstream key', () => {
  it('never reaches the client, the metrics, the health answer or the log', async () => {
    let mode: 'echo' | 'auth' = 'echo';
    const scripted = await scriptedServer((req, res) => {
      res.writeHead(mode === 'auth' ? 401 : 400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `bad request from ${req.headers.authorization ?? ''}`, type: 'invalid_request_error', code: null } }));
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const echoed = (await client(running.baseUrl)
      .chat.completions.create({ model: 'blue-model', ...ask })
      .catch((e: unknown) => e)) as ApiError;
    expect(echoed.status).toBe(400);
    expect(echoed.message).toContain('[redacted]');
    mode = 'auth';
    const auth = (await client(running.baseUrl)
      .chat.completions.create({ model: 'blue-model', ...ask })
      .catch((e: unknown) => e)) as ApiError;
    // The proxy's key was refused, not the application's: a 502 saying so, with no upstream body.
    expect(auth.status).toBe(502);
    expect(auth.message).toContain("refused the proxy's credentials");
    const seen = [JSON.stringify(echoed.error), JSON.stringify(auth.error), auth.message, echoed.message];
    seen.push(await (await fetch(`${running.proxy.url}/metrics`)).text(), await (await fetch(`${running.proxy.url}/healthz`)).text(), ...running.logs);
    for (const text of seen) expect(text).not.toContain(UPSTREAM_KEY);
  });

  it('never reaches the client through a header the upstream echoes it in, whole or in part, answer or error', async () => {
    const scripted = await scriptedServer((req, res, body) => {
      const auth = req.headers.authorization ?? '';
      const partial = auth.slice('Bearer '.length, 'Bearer '.length + 14);
      const status = req.method === 'GET' ? 500 : (JSON.parse(body) as { model: string }).model === 'blue-model' ? 200 : 500;
      res.writeHead(status, { 'content-type': 'application/json', 'x-echo-auth': auth, 'x-echo-partial': partial });
      res.end(
        status === 200
          ? openAiCompletion('blue-model', 'an answer')
          : JSON.stringify({ error: { message: `no: ${partial}`, type: 'server_error', code: null } }),
      );
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const answered = await fetch(`${running.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', ...ask }),
    });
    const listed = await fetch(`${running.baseUrl}/models`);
    for (const response of [answered, listed]) {
      const text = `${JSON.stringify([...response.headers])}${await response.text()}`;
      expect(text).toContain('[redacted]');
      expect(text).not.toContain(UPSTREAM_KEY.slice(0, 12));
    }
  });
});

describe('limits', () => {
  it('answers a body over the size limit with 413, by content-length or as it streams in', async () => {
    const scripted = await answering();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { max_body_bytes: 2000 } }' }), { env: { UPSTREAM_KEY } });
    const big = (await client(running.baseUrl)
      .chat.completions.create({ model: 'blue-model', messages: [{ role: 'user', content: 'x'.repeat(5000) }] })
      .catch((e: unknown) => e)) as ApiError;
    expect(big.status).toBe(413);
    expect(big.code).toBe('request_too_large');
    // The application's log names the proxy's setting, so whoever reads it knows which limit to raise.
    expect(big.message).toContain('proxy.limits.max_body_bytes');
    // Chunked, no content-length: counted as it arrives.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${running.baseUrl}/chat/completions`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(`{"model":"blue-model","messages":[{"role":"user","content":"${'y'.repeat(3000)}`);
    });
    expect(status).toBe(413);
    expect(scripted.seen).toHaveLength(0);
  });

  it('answers past the concurrency limit with 503 and retry-after', async () => {
    const held: ServerResponse[] = [];
    const scripted = await scriptedServer((_req, res) => void held.push(res));
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { max_concurrency: 2 } }' }), { env: { UPSTREAM_KEY } });
    const openai = client(running.baseUrl);
    const slow = [openai.chat.completions.create({ model: 'blue-model', ...ask }), openai.chat.completions.create({ model: 'blue-model', ...ask })];
    await until(() => held.length === 2, 'two requests at the upstream');
    const refused = (await openai.chat.completions.create({ model: 'blue-model', ...ask }).catch((e: unknown) => e)) as ApiError;
    expect(refused.status).toBe(503);
    expect(refused.headers?.get('retry-after')).toBe('1');
    for (const res of held) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', 'late answer'));
    }
    expect((await Promise.all(slow)).map((a) => a.choices[0]?.message.content)).toEqual(['late answer', 'late answer']);
  });

  it('closes connections past max_connections at once, idle keep-alive ones counted', async () => {
    const scripted = await answering();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { max_connections: 2 } }' }), { env: { UPSTREAM_KEY } });
    const url = new URL(running.proxy.url);
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
        socket.on('error', reject);
      });
    // Two idle connections, each proven accepted by an answered request on it.
    const idle = [await open(), await open()];
    for (const socket of idle) {
      const answered = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
      expect(await answered).toMatch(/^HTTP\/1\.1 200/);
    }
    const third = await open();
    const closed = await new Promise<string>((resolve) => {
      let text = '';
      third.on('data', (chunk: Buffer) => (text += chunk.toString()));
      third.on('close', () => resolve(text));
      third.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    });
    expect(closed).toBe('');
    for (const socket of idle) socket.destroy();
  });

  it('answers a body that does not arrive in time with 408', async () => {
    const scripted = await answering();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { body_timeout: 100ms } }' }), { env: { UPSTREAM_KEY } });
    const url = new URL(running.proxy.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"model":');
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(reply).toContain('"code":"request_timeout"');
    expect(reply).toContain('proxy.limits.body_timeout');
  });

  it('closes a connection whose headers do not arrive in time', async () => {
    const scripted = await answering();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { header_timeout: 200ms } }' }), { env: { UPSTREAM_KEY } });
    const url = new URL(running.proxy.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(scripted.seen).toHaveLength(0);
  });

  it('cuts a connection whose headers timed out once its linger is over, though the client never closes its side', { timeout: 60_000 }, async () => {
    // hostile21: after the 408 and the proxy's FIN, a client that kept its side open held the connection (a file
    // descriptor, a place under max_connections) for good: slowloris past header_timeout.
    const scripted = await answering();
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { header_timeout: 200ms } }' }), { env: { UPSTREAM_KEY } });
    const url = new URL(running.proxy.url);
    const reply = await new Promise<string>((resolve) => {
      const socket = connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true }, () =>
        socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n'),
      );
      let text = '';
      let poke: NodeJS.Timeout | undefined;
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      // The proxy's FIN: the client keeps writing a byte now and then, which a socket the proxy closed answers with a reset.
      socket.on('end', () => (poke = setInterval(() => socket.write('x'), 100)));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(poke);
        resolve(text);
      });
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it("answers malformed bodies and unknown paths in the dialect's shape and forwards neither", async () => {
    const scripted = await answering();
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const notJson = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: 'hello' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const noModel = await fetch(`${running.baseUrl}/chat/completions`, { method: 'POST', body: '{"messages":[]}' });
    expect(noModel.status).toBe(400);
    const relay = await fetch(`${running.baseUrl}/files`, { method: 'POST', body: '{"model":"blue-model","input":"x"}' });
    expect(relay.status).toBe(404);
    expect(await relay.json()).toMatchObject({ error: { code: 'unknown_url' } });
    expect(scripted.seen).toHaveLength(0);
  });
});

describe('client disconnect', () => {
  it("cancels the upstream request, and is not counted as the arm's failure", async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    let arrived!: () => void;
    const atUpstream = new Promise<void>((resolve) => (arrived = resolve));
    const scripted = await scriptedServer((_req, res) => {
      res.on('close', () => upstreamClosed());
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'green-model', choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] })}\n\n`,
      );
      arrived();
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 1);
    const abort = new AbortController();
    const stream = await client(running.baseUrl).chat.completions.create({ model: 'blue-model', ...ask, stream: true }, { signal: abort.signal });
    await atUpstream;
    const reading = (async () => {
      for await (const _chunk of stream) abort.abort();
    })().catch(() => undefined);
    await closed;
    await reading;
    await until(() => running.proxy.metrics.snapshot().arms.green.clientAborts === 1, 'the abort counted');
    const green = running.proxy.metrics.snapshot().arms.green;
    expect(green.failures).toBe(0);
    expect(green.inFlight).toBe(0);
  });
});

describe('bluegreen proxy (command)', () => {
  it('refuses a non-loopback address without client keys (exit 2, saying why)', async () => {
    const dir = tempDir();
    const file = writePlan(scriptedPlan('http://127.0.0.1:9/v1', { proxy: '{}' }), dir);
    const run = await runCli(['proxy', file, '--listen', '0.0.0.0:0'], { cwd: dir, env: { UPSTREAM_KEY } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('refusing to listen on 0.0.0.0');
    expect(run.stderr).toContain('client_keys_env');
    const bad = await runCli(['proxy', file, '--listen', 'nowhere'], { cwd: dir, env: { UPSTREAM_KEY } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('HOST:PORT');
  });

  it('refuses a client key or admin token shorter than 16 characters (exit 2, naming the variable, never the key)', async () => {
    const dir = tempDir();
    const file = writePlan(scriptedPlan('http://127.0.0.1:9/v1', { proxy: '{ client_keys_env: APP_KEYS }' }), dir);
    const run = await runCli(['proxy', file, '--listen', '0.0.0.0:0'], { cwd: dir, env: { UPSTREAM_KEY, APP_KEYS: 'long-enough-key-0123456789,k9' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('APP_KEYS: key 2 of 2 is 2 characters; client keys must be at least 16');
    expect(run.stderr + run.stdout).not.toContain('k9');
    expect(run.stderr + run.stdout).not.toContain('long-enough-key');
    const admin = writePlan(scriptedPlan('http://127.0.0.1:9/v1', { proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), tempDir());
    const short = await runCli(['proxy', admin], { cwd: dir, env: { UPSTREAM_KEY, ADMIN_TOKEN: 'tok-12345' } });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('ADMIN_TOKEN: the admin token is 9 characters');
    expect(short.stderr).not.toContain('tok-12345');
  });

  it('serves until stopped, says where, exits with the stop code, and prints no key', async () => {
    const scripted = await answering();
    const dir = tempDir();
    const file = writePlan(scriptedPlan(scripted.url, { proxy: '{}' }), dir);
    const ctx = testContext({ cwd: dir, env: { UPSTREAM_KEY } });
    const stop = new AbortController();
    const code = await runProxyCommand(file, { listen: '127.0.0.1:0', stateDir: dir }, ctx, stop.signal, (proxy) => {
      void client(`${proxy.url}/v1`)
        .chat.completions.create({ model: 'blue-model', ...ask })
        .then(() => stop.abort(130));
    });
    expect(code).toBe(130);
    expect(ctx.err()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(ctx.err() + ctx.out()).not.toContain(UPSTREAM_KEY);
  });
});
