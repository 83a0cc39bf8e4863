// hostile27b: a request whose chunked body turns malformed after its answer went out in full (a model list, which
// the proxy answers without its body; the admin API's GET /admin/route) gets one answer only: a second, the 400 for
// its body, would be read by a client as the answer to its next request on the connection. Raw sockets against a
// real proxy and upstream on 127.0.0.1.
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { runProxy, scriptedPlan, scriptedServer, simPlan, UPSTREAM_KEY } from './helpers.js';

const HEAD = '{"model":"blue-model","messages":[{"role":"user","content":"';
const TOKEN = 'admin-token-hostile27b';

/** Whether `text` holds a whole answer with a content-length. */
function wholeAnswer(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  const length = /content-length: (\d+)/i.exec(text.slice(0, end));
  return end >= 0 && length !== null && Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(length[1]);
}

/**
 * Sends `path`'s headers and one good chunk; once its whole answer is in, a bad chunk size line with a
 * request pipelined behind it. Resolves with everything read until the proxy closes.
 */
function answeredThenMalformed(url: string, path: string, headers: string): Promise<string> {
  const { port, hostname } = new URL(url);
  return new Promise<string>((resolve, reject) => {
    let text = '';
    let sentBad = false;
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}transfer-encoding: chunked\r\n\r\n${HEAD.length.toString(16)}\r\n${HEAD}\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!sentBad && wholeAnswer(text)) {
        sentBad = true;
        socket.write(`zz\r\nhello\r\n0\r\n\r\nGET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}\r\n`);
      }
    });
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

it('answers a request once when its body turns malformed after its whole answer went', async () => {
  const upstream = await scriptedServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'blue-model', object: 'model' }] }));
  });
  const running = await runProxy(scriptedPlan(upstream.url), { env: { UPSTREAM_KEY } });
  const reply = await answeredThenMalformed(running.proxy.url, '/v1/models', '');
  expect(reply).toMatch(/^HTTP\/1\.1 200 /);
  expect(reply.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
});

it('answers an admin API request once when its body turns malformed after its whole answer went', async () => {
  const running = await runProxy(simPlan({ proxy: '{ admin: { token_env: ADMIN_TOKEN } }' }), { env: { ADMIN_TOKEN: TOKEN } });
  const reply = await answeredThenMalformed(running.proxy.adminUrl as string, '/admin/route', `authorization: Bearer ${TOKEN}\r\n`);
  expect(reply).toMatch(/^HTTP\/1\.1 200 /);
  expect(reply.match(/HTTP\/1\.1 \d{3} /g)).toHaveLength(1);
});
