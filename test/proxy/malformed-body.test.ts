// A request whose chunked body Node's parser cannot read (a bad chunk size line) while its answer has not begun:
// answered 400 in the dialect's shape and counted as rejected, and an upstream request already started for it is
// cancelled. Until session 27 its connection was cut without a word (answerClientError took any answer in flight
// for one to a request before it). Raw sockets against a real proxy and upstream on 127.0.0.1.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/until.js';
import { completionServer, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY, type Running } from './helpers.js';

const HEAD = '{"model":"blue-model","messages":[{"role":"user","content":"';

/** The start of a chunked request to `path`: its headers and one good chunk. */
function chunkedStart(method: string, path: string): string {
  return `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${HEAD.length.toString(16)}\r\n${HEAD}\r\n`;
}

/** A chunk size line that is not hexadecimal. */
const BAD_CHUNK = 'zz\r\nhello\r\n0\r\n\r\n';

/** Writes `first`, then `then` once `ready` resolves; resolves with everything read until the proxy closes. */
function exchange(running: Running, first: string, ready: Promise<void>, then: string): Promise<string> {
  const url = new URL(running.proxy.url);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(first);
      void ready.then(() => socket.write(then));
    });
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

const jsonOf = (reply: string): unknown => JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));

describe('a chunked request body that cannot be parsed', () => {
  it.each([
    [
      'openai',
      '/v1/chat/completions',
      { error: { type: 'invalid_request_error', message: expect.stringMatching(/^the request is not valid HTTP\/1\.1 \(.+\)$/) } },
    ],
    [
      'anthropic',
      '/v1/messages',
      { type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/^the request is not valid HTTP\/1\.1/) } },
    ],
  ] as const)("is answered 400 in the %s dialect's shape and counted as rejected", async (api, path, shape) => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url, { api }), { env: { UPSTREAM_KEY } });
    // The bad line goes once the request is being read: its body is in the proxy's hands, its answer not begun.
    const reading = until(() => running.proxy.inFlight() === 1, 'the proxy to read the body');
    const reply = await exchange(running, chunkedStart('POST', path), reading, BAD_CHUNK);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(jsonOf(reply)).toMatchObject(shape);
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(1);
    const scrape = await (await fetch(`${running.proxy.url}/metrics`)).text();
    expect(scrape).toContain('bluegreen_proxy_rejected_total{reason="bad_request"} 1');
    expect(scripted.seen).toHaveLength(0);
    await until(() => running.proxy.inFlight() === 0, 'the request to leave the proxy');
  });

  it('is counted once, though its client keeps the connection open past the body timeout', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ limits: { body_timeout: 100ms } }' }), { env: { UPSTREAM_KEY } });
    const url = new URL(running.proxy.url);
    // Not closing its side on the proxy's FIN: the connection lingers, and the unread body's timer runs out meanwhile.
    const socket = connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true });
    socket.on('error', () => undefined);
    let reply = '';
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('latin1')));
    const ended = new Promise((resolve) => socket.on('end', resolve));
    socket.write(chunkedStart('POST', '/v1/chat/completions') + BAD_CHUNK);
    await ended;
    await until(() => running.proxy.inFlight() === 0, 'the body timer to end the request');
    socket.destroy();
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
    expect(running.proxy.metrics.snapshot().rejected).toMatchObject({ bad_request: 1, timeout: 0 });
  });

  it('cancels the upstream request already started for it (a model list with a body)', async () => {
    let upstreamGot = (): void => undefined;
    const got = new Promise<void>((resolve) => (upstreamGot = resolve));
    let cancelled = false;
    // An upstream that never answers: only the proxy giving the request up ends it.
    const upstream = await scriptedServer((req) => {
      req.socket.on('close', () => (cancelled = true));
      upstreamGot();
    });
    const running = await runProxy(scriptedPlan(upstream.url).replace('request: 5s', 'request: 10m').replace('idle: 2s', 'idle: 10m'), {
      env: { UPSTREAM_KEY },
    });
    const reply = await exchange(running, chunkedStart('GET', '/v1/models'), got, BAD_CHUNK);
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(1);
    await until(() => cancelled, 'the upstream request to be cancelled');
    await until(() => running.proxy.inFlight() === 0, 'the request to leave the proxy');
  });
});
