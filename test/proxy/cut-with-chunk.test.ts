// lows29: a stream's chunk and the upstream's cut arriving together (one write, then the socket gone in the same
// turn). A chunk passed to the client is read after its write, on the next tick (forwarding.ts timersLater), and
// the failure must not be settled before that read: its first token keeps its time (ttftMs), its error event makes
// the failure a bad_response. Suspected this session, and found not to happen: undici reports the cut from the
// socket's 'close' (onHttpSocketClose), a later phase of the event loop than the tick queued by the chunk's
// write, whether the upstream ends, destroys or resets the connection. This test keeps it so (reading later than
// that tick fails it). The upstream is a raw server on 127.0.0.1 writing the answer and cutting at once.
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { FeedAnswer } from '../../src/proxy/results-feed.js';
import { listenForTest } from '../helpers/loopback.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { until } from '../helpers/until.js';
import { runProxy, scriptedPlan, setRoute, streamedRequest, UPSTREAM_KEY } from './helpers.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const TOKEN_CHUNK = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'green-model', choices: [{ index: 0, delta: { content: 'Hel' } }] })}\n\n`;
const ERROR_CHUNK = 'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n';

type Cut = 'end' | 'destroy' | 'reset';

/**
 * An upstream answering each request, once its headers and body are in, with a 200 stream's headers and one
 * chunk in a single write, then cutting the connection in the same turn (`cut`), the body's last chunk unsent.
 */
async function cuttingServer(chunk: string, cut: Cut, before: () => Promise<void>) {
  const server = createServer((socket: Socket) => {
    let seen = '';
    socket.on('data', (data: Buffer) => {
      seen += data.toString('latin1');
      const head = seen.indexOf('\r\n\r\n');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(seen)?.[1] ?? 0);
      if (head < 0 || seen.length < head + 4 + length) return;
      seen = '';
      void before().then(() => {
        const body = `${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`;
        const answer = `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${body}`;
        if (cut === 'end') return socket.end(answer);
        socket.write(answer);
        if (cut === 'destroy') socket.destroy();
        else socket.resetAndDestroy();
      });
    });
    socket.on('error', () => undefined);
  });
  return { url: `http://${await listenForTest(server)}/v1` };
}

async function cutStream(chunk: string, cut: Cut) {
  const clock = new FakeClock();
  // 1.5 s on the steady clock before the answer: a first token read counts it as the time to it.
  const scripted = await cuttingServer(chunk, cut, () => clock.advance(1_500));
  // No fallback: green's stream is passed on at once, and read after its write.
  const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ fallback: false, admin: { token_env: ADMIN_TOKEN } }' }), {
    env: { UPSTREAM_KEY, ADMIN_TOKEN },
    steadyNow: () => clock.steadyNow(),
  });
  setRoute(running.proxy, 1);
  const client = streamedRequest(running);
  await client.done;
  await until(() => running.proxy.metrics.snapshot().arms.green.failures === 1, "green's failure recorded");
  const res = await fetch(`${running.proxy.adminUrl as string}/admin/results?after=0`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const { results } = (await res.json()) as FeedAnswer;
  expect(results).toHaveLength(1);
  return { running, client, result: results[0] };
}

describe('a stream chunk and the upstream cut arriving in the same turn', () => {
  it.each<Cut>(['end', 'destroy', 'reset'])('keeps the first token the chunk carried (socket %s)', async (cut) => {
    const { client, result } = await cutStream(TOKEN_CHUNK, cut);
    expect(client.text()).toContain('Hel');
    expect(result).toMatchObject({ kind: 'routed', result: { arm: 'green', ok: false, stream: true, ttftMs: 1_500 } });
  });

  it.each<Cut>(['end', 'destroy', 'reset'])('counts the error event the chunk carried as a bad_response (socket %s)', async (cut) => {
    const { running, client } = await cutStream(ERROR_CHUNK, cut);
    expect(client.text()).toContain('overloaded');
    expect(running.proxy.metrics.snapshot().arms.green.failuresByClass).toEqual({ bad_response: 1 });
  });
});
