// An upstream (a relay, a gateway's debug headers) echoing the proxy's key in an answer header: in the header's
// name, or in its value base64-encoded (a Basic token, at each of the three places the key can fall in a base64
// group; URL-safe base64 too), URL-encoded or JSON-escaped. None of it reaches the application, whole answers,
// streams, errors and the model list alike. Real servers on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { base64Spellings } from '../../src/core/secret-spellings.js';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, setRoute } from './helpers.js';

// Upper and lower case: a header name comes to the proxy in lower case whatever the upstream wrote.
const KEY = 'sk-Upstream+Key/Mixed-Case-0123456789XYZ';

/** Every way the headers below spell the key: the tests look for the first 12 characters of each, in any case. */
function spellings(): string[] {
  return [KEY, encodeURIComponent(KEY), ...base64Spellings(KEY)];
}

function echoHeaders(sent: string): Record<string, string> {
  const basic = (user: string) => `Basic ${Buffer.from(`${user}:${sent}`).toString('base64')}`;
  return {
    'content-type': 'application/json',
    [`X-Seen-${sent.replace(/[+/]/g, '-')}`]: 'yes',
    'x-echo-basic-1': basic('a'),
    'x-echo-basic-2': basic('ab'),
    'x-echo-basic-3': basic('abc'),
    'x-echo-base64url': Buffer.from(`{"key":"${sent}"}`).toString('base64url'),
    'x-echo-url': `key=${encodeURIComponent(sent)}`,
    'x-echo-json': JSON.stringify({ key: sent }),
    'x-kept': 'an ordinary header',
  };
}

async function headersOf(res: Response): Promise<string> {
  await res.arrayBuffer();
  return JSON.stringify([...res.headers]);
}

/** A chat request for blue's model through the proxy at `baseUrl`. */
function chat(baseUrl: string, content: string, stream: boolean): Promise<Response> {
  return fetch(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'blue-model', stream, messages: [{ role: 'user', content }] }),
  });
}

describe('an upstream echoing its key in an answer header', () => {
  it('passes neither the key in a name nor its base64, URL-encoded or JSON-escaped spelling in a value', async () => {
    const scripted = await scriptedServer((req, res, body) => {
      const sent = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const stream = req.method === 'POST' && (JSON.parse(body) as { stream?: boolean }).stream === true;
      const failing = req.method === 'POST' && body.includes('"fail"');
      res.writeHead(failing ? 500 : 200, { ...echoHeaders(sent), ...(stream && { 'content-type': 'text/event-stream' }) });
      if (req.method === 'GET') return void res.end(JSON.stringify({ object: 'list', data: [{ id: 'blue-model' }] }));
      if (failing) return void res.end(JSON.stringify({ error: { message: 'down', type: 'server_error', code: null } }));
      res.end(
        stream
          ? `data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: { content: 'hi' } }] })}\n\ndata: [DONE]\n\n`
          : openAiCompletion('blue-model', 'hi'),
      );
    });
    const running = await runProxy(scriptedPlan(scripted.url), { env: { UPSTREAM_KEY: KEY } });
    setRoute(running.proxy, 0);
    const post = (content: string, stream: boolean) => chat(running.baseUrl, content, stream);
    const answers = [await post('hi', false), await post('hi', true), await post('fail', false), await fetch(`${running.baseUrl}/models`)];
    // The upstream was sent this key, and its headers held each spelling.
    expect(scripted.seen[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    const sentHeaders = JSON.stringify(echoHeaders(KEY));
    for (const spelling of spellings()) expect(sentHeaders).toContain(spelling.slice(0, 12));
    for (const [index, res] of answers.entries()) {
      expect(res.status, `answer ${index}`).toBe(index === 2 ? 500 : 200);
      const headers = (await headersOf(res)).toLowerCase();
      for (const spelling of spellings()) expect(headers, `answer ${index}`).not.toContain(spelling.slice(0, 12).toLowerCase());
      expect(headers).not.toContain('x-seen-');
      expect(headers).toContain('"x-kept","an ordinary header"');
      expect(headers).toMatch(/"x-echo-basic-1","basic [^"]*\[redacted\]/);
    }
  });
});

describe('an upstream echoing a credential the plan put in upstream.headers', () => {
  // docs/plan.md: such a header (its name says auth, key, token, secret or cookie) is redacted as keys are, "as it
  // is everywhere bluegreen writes"; the proxy passed it to the application in answer headers and bodies (hostile22).
  it('passes it neither in a header, plain or base64-encoded, nor in an error body or a streamed answer', async () => {
    const GATEWAY = 'gw-Gateway-Secret-0123456789abcdef';
    const scripted = await scriptedServer((req, res, body) => {
      const sent = String(req.headers['cf-aig-authorization'] ?? '').replace(/^Bearer /, '');
      const failing = body.includes('"fail"');
      const stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
      res.writeHead(failing ? 500 : 200, {
        'content-type': stream ? 'text/event-stream' : 'application/json',
        'x-echo': `gateway ${sent}`,
        'x-echo-basic': `Basic ${Buffer.from(`u:${sent}`).toString('base64')}`,
      });
      if (failing) return void res.end(JSON.stringify({ error: { message: `bad gateway credential ${sent}`, type: 'server_error', code: null } }));
      res.end(
        stream
          ? `data: ${JSON.stringify({ model: 'blue-model', choices: [{ index: 0, delta: { content: `echo ${sent}` } }] })}\n\ndata: [DONE]\n\n`
          : openAiCompletion('blue-model', 'hi'),
      );
    });
    const plan = scriptedPlan(scripted.url).replace(
      'api_key_env: UPSTREAM_KEY,',
      `api_key_env: UPSTREAM_KEY, headers: { cf-aig-authorization: "Bearer ${GATEWAY}" },`,
    );
    const running = await runProxy(plan, { env: { UPSTREAM_KEY: KEY } });
    setRoute(running.proxy, 0);
    const post = (content: string, stream: boolean) => chat(running.baseUrl, content, stream);
    for (const res of [await post('hi', false), await post('fail', false), await post('hi', true)]) {
      const seen = `${JSON.stringify([...res.headers])} ${await res.text()}`;
      expect(seen).toContain('[redacted]');
      expect(seen).not.toContain(GATEWAY.slice(0, 12));
      expect(seen).not.toContain(GATEWAY.slice(-12));
    }
    // The upstream was sent the credential.
    expect(scripted.seen.at(-1)?.headers['cf-aig-authorization']).toBe(`Bearer ${GATEWAY}`);
  });
});
