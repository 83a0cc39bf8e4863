// A proxy with client keys (the only kind that listens off loopback) took max_connections client connections and
// closed every one past them at once, unanswered. A keep-alive connection lives 65 s after each answer, and a
// 401, a 404 or an open GET /healthz is an answer: anyone reaching the port, with no key, could hold every place
// with a request a minute on each connection and shut the application out. Now, as on the admin API, a connection
// that carried a client key keeps its place, and past the limit the oldest that never did makes room for the new one.
// Real proxy and upstream on 127.0.0.1.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { completionServer, runProxy, scriptedPlan, setRoute, UPSTREAM_KEY } from '../proxy/helpers.js';

const CLIENT_KEY = 'client-key-0123456789abcdef';
const CHAT = '{"model":"blue-model","messages":[]}';

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Sends one request on `socket`; resolves with the answer's status line, or '' when the connection closed unanswered. */
function exchange(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      socket.off('close', onClose);
      resolve(chunk.toString().split('\r\n')[0] ?? '');
    };
    const onClose = (): void => {
      socket.off('data', onData);
      resolve('');
    };
    socket.once('data', onData);
    socket.once('close', onClose);
    socket.write(text);
  });
}

const healthz = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
const keyless = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${CHAT.length}\r\n\r\n${CHAT}`;
const keyed = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${CLIENT_KEY}\r\nContent-Length: ${CHAT.length}\r\n\r\n${CHAT}`;

describe('connections held without a client key, on a proxy that asks for one', () => {
  it('make room for the application past max_connections; those that carried a key keep theirs', async () => {
    const scripted = await completionServer('blue-model', 'an answer');
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ client_keys_env: CLIENT_KEYS, limits: { max_connections: 3 } }' }), {
      env: { UPSTREAM_KEY, CLIENT_KEYS: CLIENT_KEY },
    });
    setRoute(running.proxy, 0);
    const port = running.proxy.port;
    // Three squatters, each kept alive by an answer that needs no key: an open /healthz, a 401.
    const squatters = [await open(port), await open(port), await open(port)];
    expect(await exchange(squatters[0] as Socket, healthz)).toMatch(/^HTTP\/1\.1 200/);
    expect(await exchange(squatters[1] as Socket, keyless)).toMatch(/^HTTP\/1\.1 401/);
    expect(await exchange(squatters[2] as Socket, healthz)).toMatch(/^HTTP\/1\.1 200/);
    // The application still gets in: the oldest squatter makes room.
    const application = await open(port);
    expect(await exchange(application, keyed)).toMatch(/^HTTP\/1\.1 200/);
    expect((squatters[0] as Socket).destroyed || (squatters[0] as Socket).readableEnded).toBe(true);
    // Two more application connections take the squatters' places; then every place is the application's, and a
    // newcomer is closed unanswered, as before.
    const more = [await open(port), await open(port)];
    for (const socket of more) expect(await exchange(socket, keyed)).toMatch(/^HTTP\/1\.1 200/);
    const late = await open(port);
    expect(await exchange(late, healthz)).toBe('');
    // The application's connections all kept their places and still serve.
    for (const socket of [application, ...more]) expect(await exchange(socket, keyed)).toMatch(/^HTTP\/1\.1 200/);
    for (const socket of [...squatters, application, ...more, late]) socket.destroy();
  });
});
