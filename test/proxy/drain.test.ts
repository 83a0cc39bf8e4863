// A stopping proxy drains: it closes its port at once and lets the requests in flight finish (a deploy restarting
// it must not cut users' streams), answers on kept-alive connections end them (a stream's client may send one more
// request down its connection right after it), /healthz says 503, and what is still running after
// proxy.limits.drain_timeout, or a second signal, is cut.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { runProxy as runProxyCommand } from '../../src/cli/commands/proxy.js';
import { ROUTE_FILE } from '../../src/proxy/route.js';
import { DRAIN_LINGER_MS } from '../../src/proxy/drain.js';
import type { ProxyHandle } from '../../src/proxy/server.js';
import { testContext } from '../helpers/cli.js';
import { tempDir, writePlan } from '../helpers/plans.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';
import { until } from '../helpers/until.js';

const env = { UPSTREAM_KEY };
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const adminEnv = { UPSTREAM_KEY, ADMIN_TOKEN };
const ADMIN = '{ admin: { token_env: ADMIN_TOKEN } }';

const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'blue-model', choices: [{ index: 0, delta: { content } }] })}\n\n`;
const END = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'blue-model', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;

const MODELS = JSON.stringify({
  object: 'list',
  data: [
    { id: 'blue-model', object: 'model' },
    { id: 'green-model', object: 'model' },
  ],
});

/**
 * An upstream that streams a first chunk at once and the rest only when the test releases that stream, or holds a
 * non-streamed answer whole until then (requests are numbered in the order they arrive); it lists its models for
 * the CLI's preflight.
 */
async function heldStream() {
  const releases: (() => void)[] = [];
  const upstream = await scriptedServer((req, res, body) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(MODELS);
      return;
    }
    if (!body.includes('"stream":true')) {
      // A non-streamed answer: nothing until released.
      releases.push(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(openAiCompletion('blue-model', 'done'));
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk('Hello'));
    releases.push(() => res.end(chunk(' world') + END));
  });
  return { upstream, release: (index = 0) => releases[index]?.() };
}

/** A streamed request through the proxy, read until its first chunk arrived; the rest is read by `rest()`. */
async function streamStarted(proxyUrl: string) {
  const client = new Client(proxyUrl);
  const response = await client.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'blue-model', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const chunks: string[] = [];
  const iterator = response.body[Symbol.asyncIterator]();
  const first = await iterator.next();
  chunks.push(Buffer.from(first.value as Buffer).toString('utf8'));
  const rest = async (): Promise<string> => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      chunks.push(Buffer.from(next.value as Buffer).toString('utf8'));
    }
    return chunks.join('');
  };
  return { client, response, firstChunk: chunks[0] ?? '', rest, close: () => client.close() };
}

async function refusesNewConnections(proxy: ProxyHandle): Promise<void> {
  await expect(request(`${proxy.url}/healthz`)).rejects.toThrow(/ECONNREFUSED|connect/);
}

describe('a stopping proxy drains', () => {
  it('closes its port at once, and streams in flight still end whole', async () => {
    const { upstream, release } = await heldStream();
    const { proxy } = await runProxy(scriptedPlan(upstream.url), { env });
    const first = await streamStarted(proxy.url);
    const second = await streamStarted(proxy.url);
    expect(first.firstChunk).toContain('Hello');

    const drained = proxy.drain(10_000);
    await refusesNewConnections(proxy);
    release(1);
    const secondText = await second.rest();
    expect(secondText).toContain('data: [DONE]');
    // A request on a connection kept alive from before the stop is still answered, and ends its connection;
    // /healthz says 503, so a load balancer probing that way stops sending here.
    const health = await second.client.request({ method: 'GET', path: '/healthz' });
    expect(health.statusCode).toBe(503);
    expect(health.headers.connection).toBe('close');
    expect(await health.body.json()).toMatchObject({ ok: false, draining: true, inFlight: 1 });

    release(0);
    const text = await first.rest();
    expect(text).toContain('world');
    expect(text).toContain('data: [DONE]');
    expect(await drained).toBe(0);
    expect(proxy.metrics.snapshot().arms.blue).toMatchObject({ requests: 2, failures: 0, clientAborts: 0 });
    await first.close();
    await second.close();
  });

  it('an answer not begun when the drain starts ends its connection, so its client does not reuse it', async () => {
    const { upstream, release } = await heldStream();
    const { proxy } = await runProxy(scriptedPlan(upstream.url), { env });
    const client = new Client(proxy.url);
    const pending = client.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await until(() => upstream.seen.some((seen) => seen.path.endsWith('/chat/completions')), 'the request upstream');
    const drained = proxy.drain(10_000);
    release(0);
    const answer = await pending;
    expect(answer.statusCode).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(await answer.body.json()).toMatchObject({ choices: [{ message: { content: 'done' } }] });
    expect(await drained).toBe(0);
    await client.close();
  });

  it("a stream's client sending its next request down the same connection at once is answered (connection: close), not reset by the stop", async () => {
    const { upstream, release } = await heldStream();
    const { proxy } = await runProxy(scriptedPlan(upstream.url), { env });
    const stream = await streamStarted(proxy.url);
    let connections = 1;
    stream.client.on('connect', () => connections++);
    // As `bluegreen proxy` does: the stop follows the drain at once.
    const stopped = proxy.drain(10_000).then(async (running) => (await proxy.close(), running));
    release(0);
    expect(await stream.rest()).toContain('data: [DONE]');
    // No await in between: the next request goes out as the stream ends, when the stop used to cut the connection
    // under it ("other side closed" every time, before the drain waited for these connections).
    const next = stream.client.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'again' }] }),
    });
    await until(() => upstream.seen.filter((seen) => seen.path.endsWith('/chat/completions')).length === 2, 'the next request upstream');
    release(1);
    const answer = await next;
    expect(answer.statusCode).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(await answer.body.json()).toMatchObject({ choices: [{ message: { content: 'done' } }] });
    expect(await stopped).toBe(0);
    expect(connections).toBe(1);
    expect(proxy.metrics.snapshot().arms.blue).toMatchObject({ requests: 2, failures: 0 });
    await stream.close();
  });

  it(`a stream's client that sends nothing more: its connection closes at most ${DRAIN_LINGER_MS} ms after the stream, and its next request goes to the replacement`, async () => {
    const { upstream, release } = await heldStream();
    const yaml = scriptedPlan(upstream.url);
    const old = await runProxy(yaml, { env });
    const stream = await streamStarted(old.proxy.url);
    const disconnected = once(stream.client, 'disconnect');
    const stopped = old.proxy.drain(10_000).then(async (running) => (await old.proxy.close(), running));
    const replacement = await runProxy(yaml, { env, listen: `127.0.0.1:${old.proxy.port}` });
    release(0);
    expect(await stream.rest()).toContain('data: [DONE]');
    expect(await stopped).toBe(0);
    await disconnected;
    const next = await stream.client.request({ method: 'GET', path: '/healthz' });
    expect(next.statusCode).toBe(200);
    expect(await next.body.json()).toMatchObject({ ok: true, inFlight: 0 });
    expect(replacement.proxy.url).toBe(old.proxy.url);
    await stream.close();
  });

  it('gives up after its time: drain() says how many still run, and close() cuts them', async () => {
    const { upstream } = await heldStream();
    const { proxy } = await runProxy(scriptedPlan(upstream.url), { env });
    const stream = await streamStarted(proxy.url);
    expect(await proxy.drain(50)).toBe(1);
    await proxy.close();
    // Cut, not ended: the client sees a broken stream rather than an answer that looks whole.
    await expect(stream.rest()).rejects.toThrow();
    await stream.close();
  });

  it('stops waiting at once when forced (a second signal)', async () => {
    const { upstream } = await heldStream();
    const { proxy } = await runProxy(scriptedPlan(upstream.url), { env });
    const stream = await streamStarted(proxy.url);
    const force = new AbortController();
    const drained = proxy.drain(3_600_000, force.signal);
    await refusesNewConnections(proxy);
    force.abort();
    expect(await drained).toBe(1);
    await proxy.close();
    await expect(stream.rest()).rejects.toThrow();
    await stream.close();
  });

  it('bluegreen proxy says what it waits for and what it cuts, and drain_timeout: 0s cuts at once', async () => {
    for (const [drainTimeout, waits] of [
      ['50ms', true],
      ['0s', false],
    ] as const) {
      const { upstream } = await heldStream();
      const dir = tempDir();
      const file = writePlan(scriptedPlan(upstream.url, { proxy: `{ limits: { drain_timeout: ${drainTimeout} } }` }), dir);
      const ctx = testContext({ cwd: dir, env });
      const stop = new AbortController();
      let started: Promise<Awaited<ReturnType<typeof streamStarted>>> | undefined;
      const code = runProxyCommand(file, { listen: '127.0.0.1:0', stateDir: dir }, ctx, stop.signal, (proxy) => {
        started = streamStarted(proxy.url);
        void started.then(() => stop.abort(143));
      });
      expect(await code).toBe(143);
      const stream = await (started as NonNullable<typeof started>);
      await expect(stream.rest()).rejects.toThrow();
      await stream.close();
      const err = ctx.err();
      if (waits) expect(err).toContain('stopping: letting 1 request in flight finish (up to 50ms, proxy.limits.drain_timeout; a second signal stops at once)');
      else expect(err).not.toContain('letting');
      expect(err).toContain('stopping: cutting 1 request still in flight');
    }
  });

  it('with nothing in flight it stops at once, saying nothing more', async () => {
    const { upstream } = await heldStream();
    const { proxy } = await runProxy(scriptedPlan(upstream.url), { env });
    expect(await proxy.drain(3_600_000)).toBe(0);
    await refusesNewConnections(proxy);
    await until(() => proxy.inFlight() === 0, 'nothing in flight');
  });

  it('frees its admin port at once too: a new proxy on the same addresses and folder starts while the old one drains', async () => {
    const { upstream, release } = await heldStream();
    const stateDir = tempDir();
    const yaml = scriptedPlan(upstream.url, { proxy: ADMIN });
    const old = await runProxy(yaml, { env: adminEnv, stateDir });
    const stream = await streamStarted(old.proxy.url);
    const drained = old.proxy.drain(3_600_000);
    const adminAddress = new URL(old.proxy.adminUrl as string).host;
    const next = await runProxy(yaml, { env: adminEnv, stateDir, listen: `127.0.0.1:${old.proxy.port}`, adminListen: adminAddress });
    expect(next.proxy.adminUrl).toBe(old.proxy.adminUrl);
    release(0);
    expect(await stream.rest()).toContain('data: [DONE]');
    expect(await drained).toBe(0);
    await stream.close();
  });

  it('no longer writes the route file a replacement keeps: its lease running out while it drains does not undo a promotion', async () => {
    const { upstream } = await heldStream();
    const stateDir = tempDir();
    const yaml = scriptedPlan(upstream.url, { proxy: ADMIN });
    let clock = Date.now();
    const old = await runProxy(yaml, { env: adminEnv, stateDir, now: () => clock });
    old.proxy.route.set({ greenWeight: 0.5, mirror: 0, leaseExpiresAt: clock + 5000, reason: 'stage 1' });
    await old.proxy.route.flush();
    const stream = await streamStarted(old.proxy.url);
    const drained = old.proxy.drain(3_600_000);
    const next = await runProxy(yaml, { env: adminEnv, stateDir });
    next.proxy.route.set({ greenWeight: 1, mirror: 0, promotedArm: 'green', reason: 'promoted' });
    await next.proxy.route.flush();
    // The old proxy's lease runs out: it serves blue itself, and leaves the folder's route to the new one.
    clock += 10_000;
    expect(old.proxy.route.effective()).toEqual({ greenWeight: 0, mirror: 0 });
    await old.proxy.close();
    await drained;
    const saved = JSON.parse(readFileSync(path.join(stateDir, ROUTE_FILE), 'utf8')) as { promotedArm?: string };
    expect(saved.promotedArm).toBe('green');
    await expect(stream.rest()).rejects.toThrow();
    await stream.close();
  });

  it('a signal while it checks the upstream stops it at once, before it listens (a silent upstream held it 10s, deaf to Ctrl-C)', async () => {
    let asked: () => void = () => undefined;
    const checking = new Promise<void>((resolve) => (asked = resolve));
    // Never answers the preflight's GET /models.
    const upstream = await scriptedServer(() => asked());
    const dir = tempDir();
    const file = writePlan(scriptedPlan(upstream.url, { proxy: '{}' }), dir);
    const ctx = testContext({ cwd: dir, env });
    const stop = new AbortController();
    let listened = false;
    const code = runProxyCommand(file, { listen: '127.0.0.1:0', stateDir: dir }, ctx, stop.signal, () => (listened = true));
    await checking;
    stop.abort(130);
    expect(await code).toBe(130);
    expect(listened).toBe(false);
    expect(ctx.err()).toContain('bluegreen proxy: stopped while starting, before it served anything');
  });
});
