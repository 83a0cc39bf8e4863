// An upstream (a relay, a gateway's debug headers) echoing the proxy's key in an answer header: in the header's
// name, or in its value base64-encoded (a Basic token, at each of the three places the key can fall in a base64
// group; URL-safe base64 too), URL-encoded or JSON-escaped. None of it reaches the application, whole answers,
// streams, errors and the model list alike. Real servers on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { base64Spellings } from '../../src/proxy/header-keys.js';
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
    const post = (content: string, stream: boolean) =>
      fetch(`${running.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'blue-model', stream, messages: [{ role: 'user', content }] }),
      });
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
