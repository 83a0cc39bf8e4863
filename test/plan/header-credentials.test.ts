// Which upstream headers hold credentials: their values are redacted everywhere, as keys are (hostile35 LOW-5:
// X-Relay-Pass and X-Credential were not).
import { describe, expect, it } from 'vitest';
import { headerCredentials } from '../../src/plan/secrets.js';

describe('headerCredentials', () => {
  it('takes the value of every header whose name says credential, with and without its scheme', () => {
    const headers = {
      Authorization: 'Bearer abcdefghijkl',
      'X-Relay-Pass': 'relay-pass-0123',
      'X-Credential': 'cred-0123456789',
      'X-Upstream-Password': 'pw-0123456789',
      'X-Request-Signature': 'sig-0123456789',
      'Proxy-Authorization': 'Basic dXNlcjpwYXNz',
    };
    expect(headerCredentials(headers).sort()).toEqual(
      [
        'Bearer abcdefghijkl',
        'abcdefghijkl',
        'relay-pass-0123',
        'relay-pass-0123',
        'cred-0123456789',
        'cred-0123456789',
        'pw-0123456789',
        'pw-0123456789',
        'sig-0123456789',
        'sig-0123456789',
        'Basic dXNlcjpwYXNz',
        'dXNlcjpwYXNz',
      ].sort(),
    );
  });

  it('leaves headers that only contain the letters pass inside a word', () => {
    expect(headerCredentials({ 'X-Cache-Bypass': '1', 'X-Passthrough-Route': 'blue', 'OpenAI-Organization': 'org-1' })).toEqual([]);
  });
});
