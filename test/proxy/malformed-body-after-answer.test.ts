// hostile27b: a request whose chunked body turns malformed after its answer went out in full (a model list, which
// the proxy answers without its body) gets one answer only: a second, the 400 for its body, would be read by a
// client as the answer to its next request on the connection. Raw socket against a real proxy and upstream.
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';

const HEAD = '{"model":"blue-model","messages":[{"role":"user","content":"';

it('answers a request once when its body turns malformed after its whole answer went', async () => {
  const upstream = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'blue-model', object: 'model' }] }));
  });
  const running = await runProxy(scriptedPlan(upstream.url), { env: { UPSTREAM_KEY } });
  const url = new URL(running.proxy.url);
  const reply = await new Promise<string>((resolve, reject) => {
    let text = '';
    let sentBad = false;
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n${HEAD.length.toString(16)}\r\n${HEAD}\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      // The model list's whole answer is in: its body goes on, malformed, with a second request pipelined behind.
      if (!sentBad && /\r\n\r\n[\s\S]*"data"/.test(text)) {
        sentBad = true;
        socket.write('zz\r\nhello\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
      }
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  expect(reply).toMatch(/^HTTP\/1\.1 200 /);
  expect(reply.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
});
