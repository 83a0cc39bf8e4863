// Client keys in headers respond.ts's fixed list does not name: an application (its SDK, a gateway's header such as
// x-portkey-api-key or helicone-auth) may carry its key in any header, and no client key is ever sent upstream. Each
// header value passed on is searched for every key: a rolling hash of each window a key's length wide (work that
// depends on the value's length alone, whatever it holds), and a constant-time comparison where a window's hash is
// a key's. The keys are few and of one or two lengths, the headers few and short: a pass or two over a few hundred
// bytes per request.
import { randomInt, timingSafeEqual } from 'node:crypto';
import { decodedCredential } from './encoded-credential.js';

interface SameLength {
  length: number;
  /** base^(length - 1), mod 2^32: what the character leaving a window weighed in its hash. */
  leaving: number;
  keys: { hash: number; bytes: Buffer }[];
}

export class ClientKeyHeaders {
  private readonly groups: SameLength[] = [];

  /** `base`: odd, random unless a test pins it (a value cannot be made to collide with a hash it cannot predict). */
  constructor(
    keys: readonly string[],
    private readonly base = randomInt(1 << 30) * 2 + 1,
  ) {
    for (const key of new Set(keys)) {
      // A header value is its bytes read as latin1 (node:http), so a key is searched for as its UTF-8 bytes so read.
      const text = Buffer.from(key, 'utf8').toString('latin1');
      if (text.length === 0) continue;
      let group = this.groups.find((one) => one.length === text.length);
      if (!group) {
        let leaving = 1;
        for (let i = 1; i < text.length; i++) leaving = Math.imul(leaving, base) >>> 0;
        group = { length: text.length, leaving, keys: [] };
        this.groups.push(group);
      }
      group.keys.push({ hash: this.hash(text, text.length), bytes: Buffer.from(text, 'latin1') });
    }
  }

  /** Whether any key is configured (without, nothing is searched). */
  active(): boolean {
    return this.groups.length > 0;
  }

  /** Whether the header value holds one of the keys anywhere in it, as it is or decoded (a Basic value, %-escapes). */
  holds(value: string): boolean {
    if (this.holdsAsIs(value)) return true;
    const decoded = decodedCredential(value);
    return decoded !== undefined && this.holdsAsIs(decoded);
  }

  private holdsAsIs(value: string): boolean {
    for (const group of this.groups) if (value.length >= group.length && this.inValue(value, group)) return true;
    return false;
  }

  private hash(text: string, length: number): number {
    let hash = 0;
    for (let i = 0; i < length; i++) hash = (Math.imul(hash, this.base) + text.charCodeAt(i)) >>> 0;
    return hash;
  }

  private inValue(value: string, group: SameLength): boolean {
    const { length, leaving, keys } = group;
    let hash = this.hash(value, length);
    for (let start = 0; ; start++) {
      for (const key of keys) if (hash === key.hash && timingSafeEqual(Buffer.from(value.slice(start, start + length), 'latin1'), key.bytes)) return true;
      const next = start + length;
      if (next >= value.length) return false;
      const rest = (hash - Math.imul(value.charCodeAt(start), leaving)) >>> 0;
      hash = (Math.imul(rest, this.base) + value.charCodeAt(next)) >>> 0;
    }
  }
}
