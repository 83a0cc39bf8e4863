// fixb33: the client key headers the proxy drops were a fixed list (authorization, x-api-key, api-key, ...); a
// client key an application sent in another header (a gateway's x-portkey-api-key, helicone-auth, one of its own)
// was forwarded upstream. Any header holding a configured client key, anywhere in its value, is dropped now; one
// holding none, or a near miss of one, still passes. Real servers on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import { ClientKeyHeaders } from '../../src/proxy/client-key-headers.js';
import { completionServer, runProxy, scriptedPlan, setRoute, UPSTREAM_KEY } from './helpers.js';

const KEY = 'client-key-0123456789abcdef';
// Another length: the search runs once per key length.
const LONGER = 'client-key-longer-0123456789abcdefghij';
// A key with characters a URL encodes (a base64 key): sent %-escaped, it was not found (fix34).
const SIGNS = 'client+key/0123456789abcdef==';
const basic = (user: string, key: string) => `Basic ${Buffer.from(`${user}:${key}`).toString('base64')}`;

describe('a client key in a header the fixed list does not name', () => {
  it('is not forwarded upstream, on a chat request or a relayed one, whatever the header', async () => {
    const scripted = await completionServer('blue-model', 'ok');
    const running = await runProxy(scriptedPlan(scripted.url, { proxy: '{ client_keys_env: CLIENT_KEYS }' }), {
      env: { UPSTREAM_KEY, CLIENT_KEYS: `${KEY},${LONGER},${SIGNS}` },
    });
    setRoute(running.proxy, 0);
    const headers = {
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      'x-portkey-api-key': KEY,
      'helicone-auth': `Bearer ${LONGER}`,
      'x-app-meta': `user=7; key=${KEY}; region=eu`,
      'x-key-at-end': `tail${LONGER}`,
      'x-near-miss': `${KEY.slice(0, -1)}X`,
      // fix34: encoded as headers carry credentials, a Basic value (base64 of user:key) and %-escaped.
      'x-gateway-auth': basic('app', KEY),
      'x-escaped': `key=${encodeURIComponent(SIGNS)}`,
      'x-kept': 'an ordinary header',
    };
    for (const [path, body] of [
      ['/chat/completions', '{"model":"blue-model","messages":[]}'],
      ['/chat/completions', '{"model":"blue-model","stream":true,"messages":[]}'],
      ['/embeddings', '{"model":"embed-model","input":"hi"}'],
    ] as const) {
      const res = await fetch(`${running.baseUrl}${path}`, { method: 'POST', headers, body });
      await res.arrayBuffer();
      expect(res.status).toBeLessThan(500);
    }
    expect(scripted.seen).toHaveLength(3);
    for (const seen of scripted.seen) {
      const sent = JSON.stringify(seen.headers);
      expect(sent).not.toContain(KEY);
      expect(sent).not.toContain(LONGER);
      for (const name of ['x-portkey-api-key', 'helicone-auth', 'x-app-meta', 'x-key-at-end', 'x-gateway-auth', 'x-escaped'])
        expect(seen.headers[name], name).toBeUndefined();
      expect(seen.headers['x-near-miss']).toBe(`${KEY.slice(0, -1)}X`);
      expect(seen.headers['x-kept']).toBe('an ordinary header');
      expect(seen.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    }
  });
});

describe('ClientKeyHeaders', () => {
  it('finds a key anywhere in a value and only an exact one, even where every window of its length hashes alike', () => {
    // Base 1: a window's hash is the sum of its characters, so any anagram of the key hashes as the key does.
    const keys = new ClientKeyHeaders(['abcdefghijklmnop', 'zyxwvutsrqponmlk0'], 1);
    expect(keys.holds('abcdefghijklmnop')).toBe(true);
    expect(keys.holds('Bearer abcdefghijklmnop, more')).toBe(true);
    expect(keys.holds('xx zyxwvutsrqponmlk0')).toBe(true);
    expect(keys.holds('ponmlkjihgfedcba')).toBe(false);
    expect(keys.holds('abcdefghijklmno')).toBe(false);
    expect(keys.holds('')).toBe(false);
    expect(new ClientKeyHeaders([]).active()).toBe(false);
    // A key beyond latin1 is found as the bytes a header carries it in.
    const wide = new ClientKeyHeaders(['clé-0123456789abcdef']);
    expect(wide.holds(`x ${Buffer.from('clé-0123456789abcdef', 'utf8').toString('latin1')}`)).toBe(true);
  });

  it('finds a key in a Basic value (base64 of user:key) and %-escaped, one decoding deep', () => {
    const keys = new ClientKeyHeaders([SIGNS, 'clé-0123456789abcdef']);
    expect(keys.holds(basic('app', SIGNS))).toBe(true);
    expect(keys.holds(`  basic\t${Buffer.from(`${SIGNS}:x`).toString('base64')} `)).toBe(true);
    expect(keys.holds(basic('app', 'clé-0123456789abcdef'))).toBe(true);
    expect(keys.holds(encodeURIComponent(SIGNS))).toBe(true);
    expect(keys.holds(`k=${encodeURIComponent('clé-0123456789abcdef')}`)).toBe(true);
    expect(keys.holds(basic('app', 'another-key-0123456789'))).toBe(false);
    expect(keys.holds(`Basic not base64 at all ${encodeURIComponent('client+key')}`)).toBe(false);
    // Twice encoded: one decoding only (each level would cost another), so not found; nor sent whole by any SDK.
    expect(keys.holds(encodeURIComponent(encodeURIComponent(SIGNS)))).toBe(false);
  });
});
