// Hostile HTTP on the wire, from a raw socket: oversized headers, request smuggling, pipelining,
// `Expect: 100-continue`, a body in thousands of 1-byte chunks, a body that is not UTF-8.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { completionServer, runProxy, scriptedPlan, scriptedServer, setRoute, UPSTREAM_KEY, type Running } from './helpers.js';

const BODY = '{"model":"blue-model","messages":[{"role":"user","content":"hi"}]}';

/** Writes `parts` in order (each once the one before is answered with `waitFor`, if given), resolves with everything read until the proxy closes. */
function exchange(to: Running | string, parts: (string | Buffer)[], waitFor?: string): Promise<string> {
  const url = new URL(typeof to === 'string' ? to : to.proxy.url);
  return new Promise((resolve, reject) => {
    let text = '';
    let next = 1;
    const socket = connect(Number(url.port), url.hostname, () => socket.write(parts[0] as string | Buffer));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (waitFor !== undefined && next < parts.length && text.includes(waitFor)) socket.write(parts[next++] as string | Buffer);
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

/**
 * Writes `pieces` one a turn until the proxy answers or ends the connection (nothing is written after that: its
 * socket may be gone), and resolves with everything read until it closes.
 */
function exchangeInPieces(to: Running, pieces: string[]): Promise<string> {
  const url = new URL(to.proxy.url);
  return new Promise((resolve, reject) => {
    let text = '';
    let ended = false;
    const socket = connect(Number(url.port), url.hostname, () => writeFrom(0));
    const writeFrom = (index: number): void => {
      if (index >= pieces.length || text !== '' || ended) return;
      socket.write(pieces[index] as string, () => setImmediate(() => writeFrom(index + 1)));
    };
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('end', () => (ended = true));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

/** The JSON body of a whole answer read off the wire. */
const jsonOf = (reply: string): unknown => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));

async function proxy(yaml?: string, env: NodeJS.ProcessEnv = {}) {
  const scripted = await completionServer('blue-model', 'ok');
  const running = await runProxy(scriptedPlan(scripted.url, yaml ? { proxy: yaml } : {}), { env: { UPSTREAM_KEY, ...env } });
  return { scripted, running };
}

const post = (headers: string, body = BODY) => `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}\r\n${body}`;

describe('the proxy on the wire', () => {
  it('answers headers over the size limit with 431 and closes, whether they arrive in one read or many', async () => {
    const { scripted, running } = await proxy();
    const request = post(`x-big: ${'a'.repeat(20_000)}\r\ncontent-length: ${BODY.length}\r\n`);
    // One write (read whole, or in the pieces the kernel hands over), then 1 KB pieces on separate turns: the proxy
    // answers once it has read past the limit, before the rest of the request.
    for (const pieces of [[request], request.match(/[^]{1,1024}/g) ?? []]) {
      const reply = await exchangeInPieces(running, pieces);
      expect(reply).toMatch(/^HTTP\/1\.1 431 /);
    }
    expect(scripted.seen).toHaveLength(0);
  });

  it('refuses a body framed both by content-length and chunked encoding (request smuggling)', async () => {
    const { scripted, running } = await proxy();
    const chunked = `${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;
    const reply = await exchange(running, [post('transfer-encoding: chunked\r\ncontent-length: 4\r\n', chunked)]);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(scripted.seen).toHaveLength(0);
  });

  // hostile33: Node reads an HTTP/1.0 request's chunked body and kept the connection alive for the next request,
  // where RFC 9112 6.1 has the framing taken as faulty and the connection closed: a hop before the proxy that
  // ignores Transfer-Encoding in HTTP/1.0 (which has none) reads the chunks as the next request (request smuggling).
  it('refuses an HTTP/1.0 request with Transfer-Encoding (400, connection closed): nothing pipelined behind it is served', async () => {
    const { scripted, running } = await proxy();
    const chunked = `${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;
    const smuggled = 'GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n';
    const reply = await exchange(running, [
      `POST /v1/chat/completions HTTP/1.0\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n${chunked}${smuggled}`,
    ]);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(reply).toContain('HTTP/1.0');
    expect(reply.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(scripted.seen).toHaveLength(0);
  });

  it("refuses an HTTP/1.1 request without Host with 400 in the dialect's shape (Node's own had no body), and closes", async () => {
    const { scripted, running } = await proxy();
    const reply = await exchange(running, [`POST /v1/chat/completions HTTP/1.1\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`]);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { message: 'an HTTP/1.1 request needs a Host header' } });
    expect(scripted.seen).toHaveLength(0);
    // HTTP/1.0 has no Host to require, but this keyless proxy's browser guard judges by it: refused there (lows30,
    // test/proxy/host-less.test.ts), and served with a loopback Host.
    const old = await exchange(running, [`POST /v1/chat/completions HTTP/1.0\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`]);
    expect(old).toMatch(/^HTTP\/1\.1 403 /);
    const named = await exchange(running, [`POST /v1/chat/completions HTTP/1.0\r\nhost: 127.0.0.1\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`]);
    expect(named).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('answers HTTP/2 with prior knowledge (its preface) with 400 saying it speaks HTTP/1.1, on both listeners', async () => {
    const { scripted, running } = await proxy('{ admin: { token_env: ADMIN_TOKEN } }', { ADMIN_TOKEN: 'admin-token-0123456789abcdef' });
    const preface = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
    const reply = await exchange(running, [preface]);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(jsonOf(reply)).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('speaks HTTP/1.1 only') } });
    const admin = await exchange(running.proxy.adminUrl as string, [preface]);
    expect(jsonOf(admin)).toEqual({ error: expect.stringContaining('the HTTP/2 preface (PRI * HTTP/2.0, HTTP/2 with prior knowledge)') });
    expect(scripted.seen).toHaveLength(0);
  });

  it('answers a CONNECT (a client told to use it as HTTPS_PROXY) with 405 saying what to set, and closes', async () => {
    const { scripted, running } = await proxy();
    const reply = await exchange(running, ['CONNECT api.openai.com:443 HTTP/1.1\r\nhost: api.openai.com:443\r\n\r\n']);
    expect(reply).toMatch(/^HTTP\/1\.1 405 /);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { message: expect.stringContaining('not a forward proxy') } });
    expect(scripted.seen).toHaveLength(0);
    // Counted as any refused request is, and so is a method a path does not take.
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(1);
    const put = await exchange(running, ['PUT /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n']);
    expect(put).toMatch(/^HTTP\/1\.1 405 /);
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(2);
    const scrape = await (await fetch(`${running.proxy.url}/metrics`)).text();
    expect(scrape).toContain('bluegreen_proxy_rejected_total{reason="bad_request"} 2');
  });

  it("answers headers it cannot read (431, 400, 408) in the dialect's shape, not bare, and closes", async () => {
    // The 431 and the 400 on a proxy with the default header_timeout: with 100 ms, a proxy stalled that long between
    // accepting a connection and reading its bytes (a loaded machine) answers it 408 first.
    const { running } = await proxy();
    const big = await exchange(running, [post(`x-big: ${'a'.repeat(20_000)}\r\ncontent-length: ${BODY.length}\r\n`)]);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(jsonOf(big)).toMatchObject({
      error: { type: 'invalid_request_error', code: 'request_headers_too_large', message: expect.stringContaining('16384 bytes') },
    });
    const smuggled = await exchange(running, [post('transfer-encoding: chunked\r\ncontent-length: 4\r\n', '0\r\n\r\n')]);
    expect(smuggled).toMatch(/^HTTP\/1\.1 400 /);
    expect(jsonOf(smuggled)).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringMatching(/^the request is not valid HTTP\/1\.1 \(.+\)$/) },
    });
    expect(running.proxy.metrics.snapshot().rejected).toMatchObject({ too_large: 1, bad_request: 1 });
    const { running: impatient } = await proxy('{ limits: { header_timeout: 100ms } }');
    const slow = await exchange(impatient, ['POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n']);
    expect(slow).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow.toLowerCase()).toContain('connection: close');
    expect(jsonOf(slow)).toMatchObject({ error: { code: 'request_timeout', message: expect.stringContaining('proxy.limits.header_timeout') } });
    expect(impatient.proxy.metrics.snapshot().rejected).toMatchObject({ timeout: 1 });
  });

  it('answers a CONNECT with 405 and reads what its client goes on writing, so the client is not reset mid-write', async () => {
    const { running } = await proxy();
    const url = new URL(running.proxy.url);
    // What a client expecting a tunnel writes straight behind the CONNECT, and more than the sockets' buffers hold:
    // unread, its write never finished, and the reset at the linger's end came while it still wrote.
    const more = Buffer.alloc(16 << 20, 'x');
    let reply = '';
    let written: Error | null | undefined;
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write('CONNECT api.openai.com:443 HTTP/1.1\r\nhost: api.openai.com:443\r\n\r\n');
      socket.end(more, () => (written = null));
    });
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    socket.on('error', (error) => (written ??= error));
    await new Promise((resolve) => socket.on('close', resolve));
    expect(reply).toMatch(/^HTTP\/1\.1 405 /);
    expect(written).toBeNull();
  });

  it("answers a malformed request to an Anthropic-dialect proxy in Anthropic's error shape", async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url, { api: 'anthropic' }), { env: { UPSTREAM_KEY } });
    const reply = await exchange(running, ['POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\nbad header\r\n\r\n']);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(jsonOf(reply)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('cuts the connection, rather than write a 400 into the answer under way, when a request pipelined behind a stream is malformed', async () => {
    let release = (): void => undefined;
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: { content: 'first' } }] })}\n\n`);
      release = () => res.end('data: [DONE]\n\n');
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const streamed = '{"model":"blue-model","stream":true,"messages":[]}';
    // The malformed request goes once the stream's first event has arrived: its answer's headers are out.
    const reply = await exchange(running, [post(`content-length: ${streamed.length}\r\n`, streamed), 'NOT HTTP\r\n\r\n'], 'first');
    release();
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply).toContain('first');
    expect(reply).not.toMatch(/HTTP\/1\.1 400/);
    expect(reply).not.toContain('[DONE]');
  });

  it('cuts the connection, rather than write a 400 read as the answer to the request before it, when that answer has not begun', async () => {
    // The upstream holds its answer: the first request's answer is in flight, its headers not out.
    let upstreamGot = (): void => undefined;
    const got = new Promise<void>((resolve) => (upstreamGot = resolve));
    const scripted = await scriptedServer(() => upstreamGot());
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    const url = new URL(running.proxy.url);
    const socket = connect(Number(url.port), url.hostname, () => socket.write(post(`content-length: ${BODY.length}\r\n`)));
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    // A reset (the proxy cut it with bytes unread) ends it as well as a close does.
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    await got;
    socket.write('NOT HTTP\r\n\r\n');
    await closed;
    // Until session 24 the 400 went out first: the client read it as its chat request's answer.
    expect(reply).toBe('');
  });

  it('answers pipelined requests in order, each once', async () => {
    const { scripted, running } = await proxy();
    const reply = await exchange(running, [
      post(`content-length: ${BODY.length}\r\n`) + post(`content-length: ${BODY.length}\r\nx-bluegreen-sticky-key: two\r\nconnection: close\r\n`),
    ]);
    expect(reply.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(scripted.seen).toHaveLength(2);
  });

  it('reads a body sent as 10,000 one-byte chunks whole, and forwards it as sent', async () => {
    const { scripted, running } = await proxy();
    const head = '{"model":"blue-model","messages":[{"role":"user","content":"';
    const tail = '"}]}';
    const chunked = `${head.length.toString(16)}\r\n${head}\r\n${'1\r\nx\r\n'.repeat(10_000)}${tail.length.toString(16)}\r\n${tail}\r\n0\r\n\r\n`;
    const reply = await exchange(running, [post('transfer-encoding: chunked\r\nconnection: close\r\n', chunked)]);
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(scripted.seen[0]?.body).toBe(`${head}${'x'.repeat(10_000)}${tail}`);
  });

  it('refuses a body that is not UTF-8 with 400, without forwarding it', async () => {
    const { scripted, running } = await proxy();
    const bad = Buffer.concat([Buffer.from(BODY.slice(0, -4)), Buffer.from([0xff, 0xfe]), Buffer.from(BODY.slice(-4))]);
    const reply = await exchange(running, [Buffer.concat([Buffer.from(post(`content-length: ${bad.length}\r\nconnection: close\r\n`, '')), bad])]);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain('the request body is not UTF-8');
    expect(scripted.seen).toHaveLength(0);
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(1);
  });

  it('refuses a body that starts with a byte order mark with 400 saying so, without forwarding it', async () => {
    const { scripted, running } = await proxy();
    const marked = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(BODY)]);
    const reply = await exchange(running, [Buffer.concat([Buffer.from(post(`content-length: ${marked.length}\r\nconnection: close\r\n`, '')), marked])]);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain('the request body starts with a byte order mark (U+FEFF)');
    expect(scripted.seen).toHaveLength(0);
  });

  it('reads a body with characters beyond ASCII as UTF-8: the arm gets them whole beside its model', async () => {
    const { scripted, running } = await proxy();
    setRoute(running.proxy, 1);
    const body = Buffer.from('{"model":"blue-model","messages":[{"role":"user","content":"h\u00e9llo ✓ 你好 é"}]}', 'utf8');
    const reply = await exchange(running, [Buffer.concat([Buffer.from(post(`content-length: ${body.length}\r\nconnection: close\r\n`, '')), body])]);
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(scripted.seen[0]?.body).toBe('{"model":"green-model","messages":[{"role":"user","content":"h\u00e9llo ✓ 你好 é"}]}');
  });
});

describe('Expect: 100-continue', () => {
  it('says 100 Continue only to a request the proxy will read', async () => {
    const { running } = await proxy();
    const reply = await exchange(running, [post(`expect: 100-continue\r\ncontent-length: ${BODY.length}\r\nconnection: close\r\n`, ''), BODY], '100 Continue');
    expect(reply).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
  });

  it('answers a body too large by its content-length with 413 and no 100 Continue', async () => {
    const { running } = await proxy();
    const reply = await exchange(running, [post(`expect: 100-continue\r\ncontent-length: ${2 ** 30}\r\n`, '')]);
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
    expect(reply).not.toContain('100 Continue');
  });

  it('answers a request without a valid client key with 401 and no 100 Continue', async () => {
    const { running } = await proxy('{ client_keys_env: APP_KEYS }', { APP_KEYS: 'app-key-0123456789abcdef' });
    const reply = await exchange(running, [post(`expect: 100-continue\r\nauthorization: Bearer wrong\r\ncontent-length: ${BODY.length}\r\n`, '')]);
    expect(reply).toMatch(/^HTTP\/1\.1 401 /);
    expect(reply).not.toContain('100 Continue');
  });

  it("answers any other Expect with 417 in the dialect's error shape (Node's own 417 had no body), and closes", async () => {
    const { scripted, running } = await proxy();
    const reply = await exchange(running, [post(`expect: 200-ok\r\ncontent-length: ${BODY.length}\r\n`, '')]);
    expect(reply).toMatch(/^HTTP\/1\.1 417 /);
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toEqual({
      error: {
        message: 'this proxy meets only "Expect: 100-continue", not "Expect: 200-ok"',
        type: 'invalid_request_error',
        param: null,
        code: 'expectation_failed',
      },
    });
    expect(scripted.seen).toHaveLength(0);
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(1);
  });
});

describe('probes and the admin listener', () => {
  it('answers HEAD /healthz with the headers only, for load balancers that probe with it', async () => {
    const { running } = await proxy();
    const reply = await exchange(running, ['HEAD /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n']);
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(reply.endsWith('\r\n\r\n')).toBe(true);
  });

  it("answers a malformed request or an unmet Expect on the admin listener in the admin API's shape ({ error }), not bare", async () => {
    const { running } = await proxy('{ admin: { token_env: ADMIN_TOKEN } }', { ADMIN_TOKEN: 'admin-token-0123456789abcdef' });
    const admin = running.proxy.adminUrl as string;
    const malformed = await exchange(admin, ['GET /admin/route HTTP/1.1\r\nhost: 127.0.0.1\r\nbad header\r\n\r\n']);
    expect(malformed).toMatch(/^HTTP\/1\.1 400 /);
    expect(jsonOf(malformed)).toEqual({ error: expect.stringMatching(/^the request is not valid HTTP\/1\.1 \(.+\)$/) });
    const expectation = await exchange(admin, ['PUT /admin/route HTTP/1.1\r\nhost: 127.0.0.1\r\nexpect: 200-ok\r\ncontent-length: 2\r\n\r\n']);
    expect(expectation).toMatch(/^HTTP\/1\.1 417 /);
    expect(expectation.toLowerCase()).toContain('connection: close');
    expect(jsonOf(expectation)).toEqual({ error: 'the admin API meets only "Expect: 100-continue", not "Expect: 200-ok"' });
  });

  it('closes an admin connection refused for its token instead of draining the body it declared', async () => {
    const { running } = await proxy('{ admin: { token_env: ADMIN_TOKEN } }', { ADMIN_TOKEN: 'admin-token-0123456789abcdef' });
    const reply = await exchange(running.proxy.adminUrl as string, [
      `PUT /admin/route HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer wrong\r\ncontent-length: ${2 ** 30}\r\n\r\n{`,
    ]);
    expect(reply).toMatch(/^HTTP\/1\.1 401 /);
    expect(reply.toLowerCase()).toContain('connection: close');
  });
});
