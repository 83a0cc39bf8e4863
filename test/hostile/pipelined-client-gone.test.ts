// A client that pipelines requests (HTTP/1.1 lets it write several down one connection before any answer) and then
// closes the connection. Node gives a pipelined request's answer no socket until the answers before it are done,
// and emits no 'close' for it when the connection goes meanwhile: the proxy never heard that its client left. Each
// such request ran upstream to its end (the operator's key spent for nobody) and held a max_concurrency slot until
// the upstream answered or timed out (upstream.timeout.request, 60 s by default): one TCP write of 1,024 pipelined
// requests filled the proxy for a minute without holding a single connection open. Now the connection itself is
// watched until such an answer gets it (src/proxy/client-link.ts). Real proxy and upstream on 127.0.0.1.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/until.js';
import { runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from '../proxy/helpers.js';

/** Writes `requests` down one connection at once, and closes it once `closeWhen` holds. */
async function pipelineThenClose(url: string, requests: string[], closeWhen: () => boolean): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(requests.join(''));
  await until(closeWhen, 'the proxy to send every pipelined request upstream');
  socket.destroy();
}

function post(path: string, body: string): string {
  return `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function get(path: string): string {
  return `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`;
}

describe('pipelined requests whose client closes the connection', () => {
  it.each([
    ['chat completions', () => post('/v1/chat/completions', '{"model":"blue-model","messages":[{"role":"user","content":"hi"}]}')],
    ['a streamed chat', () => post('/v1/chat/completions', '{"model":"blue-model","stream":true,"messages":[]}')],
    ['a passed-through model', () => post('/v1/chat/completions', '{"model":"other-model","messages":[]}')],
    ['a relayed path (embeddings)', () => post('/v1/embeddings', '{"model":"embedding-model","input":"hi"}')],
    ['the model list', () => get('/v1/models')],
  ])('%s: every upstream request is cancelled and every slot freed at once', async (_name, request) => {
    // An upstream that never answers: only the client's going away can end its requests before the timeout.
    const open = new Set<object>();
    let cancelled = 0;
    const upstream = await scriptedServer((req) => {
      open.add(req);
      req.socket.on('close', () => {
        open.delete(req);
        cancelled++;
      });
    });
    // A request timeout far beyond the test's: a slot freed by it would not count.
    const proxy = await runProxy(scriptedPlan(upstream.url, { proxy: '{}' }).replace('request: 5s', 'request: 10m').replace('idle: 2s', 'idle: 10m'), {
      env: { UPSTREAM_KEY },
    });
    const pipelined = 4;
    await pipelineThenClose(proxy.proxy.url, Array.from({ length: pipelined }, request), () => open.size === pipelined);

    // until()'s minute, far inside the 10-minute request timeout: a 10 s deadline could pass on a loaded machine.
    await until(() => proxy.proxy.inFlight() === 0, 'every pipelined request to leave the proxy');
    await until(() => cancelled === pipelined, 'every upstream request to be cancelled');
    expect(proxy.logs.filter((line) => line.includes('internal error'))).toEqual([]);
  });
});
