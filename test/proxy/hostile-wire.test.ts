// Hostile HTTP on the wire, from a raw socket: oversized headers, request smuggling, pipelining,
// `Expect: 100-continue`, a body in thousands of 1-byte chunks, a body that is not UTF-8.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { completionServer, runProxy, scriptedPlan, setRoute, UPSTREAM_KEY, type Running } from './helpers.js';

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

  it("refuses an HTTP/1.1 request without Host with 400 in the dialect's shape (Node's own had no body), and closes", async () => {
    const { scripted, running } = await proxy();
    const reply = await exchange(running, [`POST /v1/chat/completions HTTP/1.1\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`]);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { message: 'an HTTP/1.1 request needs a Host header' } });
    expect(scripted.seen).toHaveLength(0);
    // HTTP/1.0 has no Host to require: served.
    const old = await exchange(running, [`POST /v1/chat/completions HTTP/1.0\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`]);
    expect(old).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('answers a CONNECT (a client told to use it as HTTPS_PROXY) with 405 saying what to set, and closes', async () => {
    const { scripted, running } = await proxy();
    const reply = await exchange(running, ['CONNECT api.openai.com:443 HTTP/1.1\r\nhost: api.openai.com:443\r\n\r\n']);
    expect(reply).toMatch(/^HTTP\/1\.1 405 /);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { message: expect.stringContaining('not a forward proxy') } });
    expect(scripted.seen).toHaveLength(0);
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

  it('closes an admin connection refused for its token instead of draining the body it declared', async () => {
    const { running } = await proxy('{ admin: { token_env: ADMIN_TOKEN } }', { ADMIN_TOKEN: 'admin-token-0123456789abcdef' });
    const reply = await exchange(running.proxy.adminUrl as string, [
      `PUT /admin/route HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer wrong\r\ncontent-length: ${2 ** 30}\r\n\r\n{`,
    ]);
    expect(reply).toMatch(/^HTTP\/1\.1 401 /);
    expect(reply.toLowerCase()).toContain('connection: close');
  });
});
