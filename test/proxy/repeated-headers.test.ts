// lows29: a request carrying Host, or its credential, twice. Node keeps the first of each (req.headers), so the
// keyless proxy's browser guard passed `Host: 127.0.0.1` then `Host: evil.example`. Raw requests on 127.0.0.1.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { completionServer, runProxy, scriptedPlan, setRoute, UPSTREAM_KEY } from './helpers.js';

/** Writes a raw request on a new connection and resolves with everything answered until the connection closed. */
function rawExchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

const BODY = '{"model":"blue-model","messages":[]}';

/** A chat POST with the given header lines (each `Name: value`), closing its connection after the answer. */
function chatPost(lines: readonly string[], path = '/v1/chat/completions'): string {
  return `POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`;
}

/** The JSON body of a raw HTTP answer. */
const bodyOf = (answer: string): unknown => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

describe('a request carrying more than one Host header', () => {
  it('is answered 400 in the dialect’s shape (RFC 9112 3.2) and never forwarded, whichever Host comes first', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY } });
    setRoute(running.proxy, 0);
    const port = running.proxy.port;
    for (const hosts of [
      ['Host: 127.0.0.1', 'Host: evil.example'],
      ['host: 127.0.0.1', 'HOST: 127.0.0.1'],
    ]) {
      const answer = await rawExchange(port, chatPost(hosts));
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer.toLowerCase()).toContain('connection: close');
      expect(bodyOf(answer)).toEqual({
        error: { message: 'the request carries more than one Host header; send one', type: 'invalid_request_error', param: null, code: null },
      });
    }
    expect(scripted.seen).toHaveLength(0);
    expect(running.proxy.metrics.snapshot().rejected.bad_request).toBe(2);
    // One Host, as ever.
    expect(await rawExchange(port, chatPost(['Host: 127.0.0.1']))).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('is refused by a proxy with client keys too, in the Anthropic shape for an Anthropic proxy', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const key = 'client-key-0123456789abcdef';
    const running = await runProxy(scriptedPlan(scripted.url, { api: 'anthropic', proxy: '{ client_keys_env: CLIENT_KEYS }' }), {
      env: { UPSTREAM_KEY, CLIENT_KEYS: key },
    });
    const answer = await rawExchange(running.proxy.port, chatPost(['Host: a.example', `x-api-key: ${key}`, 'Host: b.example'], '/v1/messages'));
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(answer)).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'the request carries more than one Host header; send one' },
    });
    expect(scripted.seen).toHaveLength(0);
  });
});
