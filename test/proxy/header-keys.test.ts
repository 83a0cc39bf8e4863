// HeaderKeys, the upstream key's search in answer headers, since session 34 keeps its verdict on each name it has
// seen and does not search a value shorter than any spelling's searched part: neither may let a key through.
import { describe, expect, it } from 'vitest';
import { HeaderKeys } from '../../src/proxy/header-keys.js';
import { passHeaders } from '../../src/proxy/respond.js';

const TAG = { arm: 'blue', fallback: false } as const;

describe('HeaderKeys', () => {
  it('drops a name holding the key on every answer, and passes the others on every answer', () => {
    const keys = new HeaderKeys(['sk-upstream-0123456789abcdef']);
    for (let answer = 0; answer < 3; answer++) {
      const out = passHeaders({ 'x-echo-sk-upstream-0123456789abcdef': 'yes', 'x-kept': 'plain' }, TAG, keys);
      expect(out).toEqual({ 'x-kept': 'plain', 'x-bluegreen-arm': 'blue' });
    }
  });

  it('keeps judging names past the names it keeps verdicts for', () => {
    const keys = new HeaderKeys(['sk-upstream-0123456789abcdef']);
    for (let k = 0; k < 300; k++) expect(keys.inName(`x-name-${k}`)).toBe(false);
    expect(keys.inName('x-echo-sk-upstream-0123456789abcdef')).toBe(true);
    expect(keys.inName(`x-${'a'.repeat(100)}-sk-upstream-0123456789abcdef`)).toBe(true);
  });

  it('redacts a key shorter than the 12 characters searched for, alone in a value as short', () => {
    const keys = new HeaderKeys(['k-123456']);
    expect(keys.value('k-123456')).not.toContain('k-123456');
    expect(keys.value('k-12345')).toBe('k-12345');
    expect(passHeaders({ 'x-echo': 'k-123456', 'x-count': '42' }, TAG, keys)).toEqual({
      'x-echo': '[redacted]',
      'x-count': '42',
      'x-bluegreen-arm': 'blue',
    });
  });
});
