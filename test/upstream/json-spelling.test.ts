// The token scanners a spelling's walk uses (src/upstream/json-spelling.ts) end a JSON string or number token
// exactly where the grammar's own patterns do, on every text (seeded fuzz against the sticky regexes they replaced).
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/core/random.js';
import { numberEnd, stringEnd } from '../../src/upstream/json-spelling.js';

const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

function regexEnd(pattern: RegExp, text: string, at: number): number {
  pattern.lastIndex = at;
  return pattern.test(text) ? pattern.lastIndex : -1;
}

describe('stringEnd and numberEnd', () => {
  it('end each token where the JSON grammar does (known cases)', () => {
    expect(stringEnd('x"a\\"b"y', 1)).toBe(7);
    expect(stringEnd('"a\\u00e9"', 0)).toBe(9);
    expect(stringEnd('"a\\u00g9"', 0)).toBe(-1);
    expect(stringEnd('"a\tb"', 0)).toBe(-1);
    expect(stringEnd('"a\\', 0)).toBe(-1);
    expect(stringEnd('"open', 0)).toBe(-1);
    expect(numberEnd('-0.5e+3,', 0)).toBe(7);
    expect(numberEnd('01', 0)).toBe(1);
    expect(numberEnd('1.e5', 0)).toBe(1);
    expect(numberEnd('1e', 0)).toBe(1);
    expect(numberEnd('-', 0)).toBe(-1);
    expect(numberEnd('.5', 0)).toBe(-1);
  });

  it('agree with the grammar on 200,000 random texts', () => {
    const random = createRandom(30);
    const ALPHABET = ['"', '\\', 'u', '0', '1', '9', 'a', 'F', 'g', '-', '+', '.', 'e', 'E', '/', 'b', 'n', '\t', '\u0000', ' ', 'é', '😀'];
    for (let i = 0; i < 200_000; i++) {
      const length = Math.floor(random() * 12);
      const text = (random() < 0.5 ? '"' : '') + Array.from({ length }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]).join('');
      const at = Math.floor(random() * 2);
      expect(stringEnd(text, at)).toBe(regexEnd(STRING, text, at));
      expect(numberEnd(text, at)).toBe(regexEnd(NUMBER, text, at));
    }
  });
});
