// HTTP_PROXY / HTTPS_PROXY / NO_PROXY: a loopback forward proxy (plain absolute-URI forwarding and CONNECT
// tunnels, written here with node:http and node:net) carries the upstream traffic when the variables say so.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createUpstreamClient } from '../../src/upstream/index.js';
import { proxyFor, proxySettings } from '../../src/upstream/proxy-env.js';
import { closeAfterTest } from '../helpers/close-after-test.js';
import { closeServer, listenForTest } from '../helpers/loopback.js';
import { tempDir } from '../helpers/plans.js';
import { killAfterTest } from '../helpers/processes.js';
import { json, openAiReply, startServer, upstreamConfig, type TestServer } from './server.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/bluegreen.js');
const TLS = path.resolve(import.meta.dirname, '../fixtures/tls');
const KEY = 'sk-proxy-test-5555';

interface ForwardProxy {
  url: string;
  /** "GET http://host/path" for forwarded requests, "CONNECT host:port" for tunnels. */
  seen: string[];
  close(): Promise<void>;
}

async function startForwardProxy(): Promise<ForwardProxy> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    // Plain forwarding: the request line carries the absolute URL.
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
  });
  const address = await listenForTest(server);
  // A tunnel's sockets are no longer the server's connections: ended first, or its close would wait for them.
  return closeAfterTest({
    url: `http://${address}`,
    seen,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  });
}

async function upstreamAndProxy(): Promise<{ server: TestServer; proxy: ForwardProxy }> {
  const server = await startServer((req, res) =>
    (req.method === 'GET' ? json(200, { data: [{ id: 'gpt-4o' }] }) : json(200, openAiReply('Hello through the proxy.')))(req, res),
  );
  return { server, proxy: await startForwardProxy() };
}

async function sendOnce(base: string, env: NodeJS.ProcessEnv) {
  const client = createUpstreamClient({ arm: 'blue', model: 'gpt-4o', upstream: upstreamConfig(base), apiKey: KEY, env });
  try {
    return await client.send({ messages: [{ role: 'user', content: 'hi' }], params: {}, stream: false, maxTokens: 16, source: 'synthetic' });
  } finally {
    await client.close();
  }
}

describe('proxy variables', () => {
  it('reads lower- and upper-case names, and NO_PROXY by host, suffix, port and *', () => {
    const settings = proxySettings({ HTTP_PROXY: 'http://p:3128', no_proxy: 'internal.example, .corp.example,localhost:8080' });
    expect(settings).toEqual({ httpProxy: 'http://p:3128', httpsProxy: 'http://p:3128', noProxy: 'internal.example, .corp.example,localhost:8080' });
    expect(proxyFor(new URL('https://api.openai.com/v1'), settings)).toBe('http://p:3128');
    expect(proxyFor(new URL('http://internal.example/v1'), settings)).toBeUndefined();
    expect(proxyFor(new URL('http://llm.corp.example/v1'), settings)).toBeUndefined();
    expect(proxyFor(new URL('http://localhost:8080/v1'), settings)).toBeUndefined();
    expect(proxyFor(new URL('http://localhost:9090/v1'), settings)).toBe('http://p:3128');
    expect(proxyFor(new URL('http://x/v1'), { ...settings, noProxy: '*' })).toBeUndefined();
    expect(proxyFor(new URL('http://x/v1'), proxySettings({}))).toBeUndefined();
  });

  it('sends an http:// upstream through HTTP_PROXY as a plain forwarded request', async () => {
    const { server, proxy } = await upstreamAndProxy();
    const result = await sendOnce(server.base, { HTTP_PROXY: proxy.url });
    expect(result).toMatchObject({ ok: true, content: 'Hello through the proxy.' });
    expect(proxy.seen).toEqual([`POST ${server.base}/chat/completions`]);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('goes direct for a host NO_PROXY names, and with no variable set', async () => {
    const { server, proxy } = await upstreamAndProxy();
    expect((await sendOnce(server.base, { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' })).ok).toBe(true);
    expect((await sendOnce(server.base, {})).ok).toBe(true);
    expect(proxy.seen).toEqual([]);
    expect(server.requests).toHaveLength(2);
  });

  it('a proxy that is down is a connection failure naming the upstream, not a crash', async () => {
    const { server, proxy } = await upstreamAndProxy();
    await proxy.close();
    const client = createUpstreamClient({
      arm: 'green',
      model: 'gpt-4o',
      upstream: upstreamConfig(server.base, { retries: { max: 0, baseDelayMs: 1, maxDelayMs: 1 } }),
      apiKey: KEY,
      env: { HTTP_PROXY: proxy.url },
    });
    const result = await client.send({ messages: [{ role: 'user', content: 'hi' }], params: {}, stream: false, maxTokens: 16, source: 'synthetic' });
    await client.close();
    expect(result).toMatchObject({ ok: false, failure: 'connection' });
    expect(result.errorMessage).toContain('green arm: could not reach');
  });

  it('reaches an https:// upstream through HTTPS_PROXY with CONNECT, trusting a CA from NODE_EXTRA_CA_CERTS (the CLI)', async () => {
    const tlsServer = https.createServer(
      { key: readFileSync(path.join(TLS, 'localhost-key.pem')), cert: readFileSync(path.join(TLS, 'localhost-cert.pem')) },
      (req, res) => {
        res.writeHead(req.headers.authorization === `Bearer ${KEY}` ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o' }, { id: 'gpt-4.1' }] }));
      },
    );
    const upstream = await listenForTest(tlsServer);
    const proxy = await startForwardProxy();
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'plan.yaml'),
      `name: tls\nupstream: { base_url: https://${upstream}/v1, api_key_env: UPSTREAM_API_KEY }\nblue: { model: gpt-4o }\ngreen: { model: gpt-4.1 }\ntraffic: { rate: 1 }\nstages: [{ duration: 1m, green_weight: 0.5 }]\n`,
    );
    const child = killAfterTest(
      spawn(process.execPath, [BIN, 'validate', 'plan.yaml', '--check-upstream'], {
        cwd: dir,
        env: { PATH: process.env.PATH, HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: path.join(TLS, 'localhost-cert.pem'), UPSTREAM_API_KEY: KEY },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number];
    expect(code, output).toBe(0);
    expect(proxy.seen).toEqual([`CONNECT ${upstream}`]);
    expect(output).not.toContain(KEY);
  });
});
