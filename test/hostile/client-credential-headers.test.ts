// The proxy dropped the client's `authorization` and `x-api-key` before forwarding, but passed any other header on:
// an application whose SDK presents its key as `api-key` (Azure OpenAI's SDKs) or `x-goog-api-key` (Google's), next
// to the Bearer client key the proxy checks, had that key sent to the upstream (and quoted back into the results
// feed by an upstream that echoes its request in an error). docs/proxy.md says the application's key is never
// forwarded: those headers are now dropped too. Real proxy and upstream on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from '../proxy/helpers.js';

const CLIENT_KEY = 'client-key-0123456789abcdef';

describe("the application's credential headers", () => {
  it.each([
    ['chat completions', '/v1/chat/completions', '{"model":"blue-model","messages":[]}'],
    ['a relayed path (embeddings)', '/v1/embeddings', '{"model":"embedding-model","input":"hi"}'],
  ])('%s: api-key and x-goog-api-key never reach the upstream, which gets the plan key only', async (_name, path, body) => {
    const upstream = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', 'hello there, an answer'));
    });
    const proxy = await runProxy(scriptedPlan(upstream.url, { proxy: '{ client_keys_env: CLIENT_KEYS }' }), { env: { UPSTREAM_KEY, CLIENT_KEYS: CLIENT_KEY } });
    const res = await fetch(`${proxy.proxy.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${CLIENT_KEY}`,
        'api-key': CLIENT_KEY,
        'x-goog-api-key': CLIENT_KEY,
        'anthropic-beta': 'kept-as-is',
        'content-type': 'application/json',
      },
      body,
    });
    expect(res.status).toBe(200);
    const [seen] = upstream.seen;
    expect(seen?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.stringify(seen?.headers)).not.toContain(CLIENT_KEY);
    // Other headers still pass as the application wrote them.
    expect(seen?.headers['anthropic-beta']).toBe('kept-as-is');
  });
});
