// RFC 9110 7.6.1: the headers a message's `Connection:` names belong to that hop alone; the proxy drops them both
// ways (loose19: an application's and an upstream's such headers were passed on), yet still reads what it needs
// itself (the client key) and keeps an answer's content-type.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from './helpers.js';

const APP_KEY = 'app-key-one-0123456789';

/** A client on 127.0.0.1 (node:http: fetch refuses to set `Connection`), giving the answer's status, headers and body. */
function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('headers named in Connection', () => {
  it('are not passed on, either way; the client key and content-type named there still do their job', async () => {
    const scripted = await scriptedServer((_req, res) => {
      res.writeHead(200, {
        connection: 'keep-alive, x-upstream-hop, Content-Type',
        'x-upstream-hop': 'for the proxy alone',
        'x-request-id': 'req-1',
        'content-type': 'application/json',
      });
      res.end(openAiCompletion('blue-model', 'an answer'));
    });
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ client_keys_env: APP_KEYS }' }), { env: { UPSTREAM_KEY, APP_KEYS: APP_KEY } });
    const answer = await post(
      `${running.baseUrl}/chat/completions`,
      {
        connection: 'keep-alive, X-Hop-Note, authorization',
        'x-hop-note': 'for the proxy alone',
        'x-end-note': 'for the upstream',
        authorization: `Bearer ${APP_KEY}`,
      },
      JSON.stringify({ model: 'blue-model', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ choices: [{ message: { content: 'an answer' } }] });
    expect(answer.headers).toMatchObject({ 'x-request-id': 'req-1', 'content-type': 'application/json', 'x-bluegreen-arm': 'blue' });
    expect(answer.headers['x-upstream-hop']).toBeUndefined();
    const sent = scripted.seen[0]?.headers;
    expect(sent).toMatchObject({ 'x-end-note': 'for the upstream', authorization: `Bearer ${UPSTREAM_KEY}` });
    expect(sent?.['x-hop-note']).toBeUndefined();
  });
});
