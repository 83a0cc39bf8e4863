// Headers that tell a gateway to route a request elsewhere, or whom it came from, were passed from the application
// to the upstream beside the operator's key: `x-http-method-override: DELETE` (honoured by Google's APIs and many
// gateways), `x-original-url` / `x-rewrite-url` (IIS, some relays route by them), `x-forwarded-*`, `forwarded`
// and `x-real-ip` (a relay trusting its proxy hop reads the client's address and host from them). Any client could
// thus pick a method, a path or an origin for a request the upstream sees as the operator's. So were key headers
// of gateways the proxy did not list (Azure API Management's and Azure AI services' `ocp-apim-subscription-key`),
// though docs/proxy.md says no application key is forwarded. All dropped now. Real proxy and upstream on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { openAiCompletion, runProxy, scriptedPlan, scriptedServer, UPSTREAM_KEY } from '../proxy/helpers.js';

const CLIENT_KEY = 'client-key-0123456789abcdef';

const OVERRIDES: Record<string, string> = {
  'x-http-method-override': 'DELETE',
  'x-http-method': 'DELETE',
  'x-method-override': 'DELETE',
  'x-original-url': '/v1/files/file-1',
  'x-rewrite-url': '/v1/files/file-1',
  'x-original-method': 'DELETE',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-for': '10.0.0.1',
  'x-forwarded-proto': 'https',
  'x-forwarded-prefix': '/admin',
  'x-real-ip': '10.0.0.1',
  'x-client-ip': '10.0.0.1',
  forwarded: 'for=10.0.0.1;host=evil.example',
  'ocp-apim-subscription-key': CLIENT_KEY,
  // review33: more of the same classes (client address, routing, other gateways' keys).
  'x-original-uri': '/v1/files/file-1',
  'x-original-host': 'evil.example',
  'x-host': 'evil.example',
  'x-envoy-original-path': '/v1/files/file-1',
  'true-client-ip': '10.0.0.1',
  'cf-connecting-ip': '10.0.0.1',
  'fastly-client-ip': '10.0.0.1',
  'x-cluster-client-ip': '10.0.0.1',
  'x-original-forwarded-for': '10.0.0.1',
  'helicone-auth': 'Bearer sk-helicone-gateway-secret',
  'x-portkey-api-key': 'portkey-gateway-secret',
  'cf-aig-authorization': 'Bearer cf-gateway-secret',
  'x-litellm-api-key': 'sk-litellm-gateway-secret',
};

describe('headers that redirect or re-attribute an upstream request', () => {
  it.each([
    ['chat completions', 'POST', '/v1/chat/completions', '{"model":"blue-model","messages":[]}'],
    ['a relayed path (embeddings)', 'POST', '/v1/embeddings', '{"model":"embedding-model","input":"hi"}'],
    ['a stored response read', 'GET', '/v1/responses/resp_1', undefined],
  ])('%s: none reaches the upstream, the application headers it may read still do', async (_name, method, path, body) => {
    const upstream = await scriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(openAiCompletion('blue-model', 'hello there, an answer'));
    });
    const proxy = await runProxy(scriptedPlan(upstream.url, { proxy: '{ client_keys_env: CLIENT_KEYS }' }), { env: { UPSTREAM_KEY, CLIENT_KEYS: CLIENT_KEY } });
    const res = await fetch(`${proxy.proxy.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'anthropic-beta': 'kept-as-is', 'content-type': 'application/json', ...OVERRIDES },
      body,
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const [seen] = upstream.seen;
    expect(seen?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    const leaked = Object.keys(OVERRIDES).filter((name) => seen?.headers[name] !== undefined);
    expect(leaked).toEqual([]);
    expect(JSON.stringify(seen?.headers)).not.toContain(CLIENT_KEY);
    expect(seen?.headers['anthropic-beta']).toBe('kept-as-is');
  });
});
