// The upstream keys kept out of the answer headers passed to the application. An upstream (a relay, a gateway's
// debug header) may echo a key in a header's value, encoded as headers carry credentials (Basic auth, a
// base64-encoded token), or in a header's name. Answer bodies are searched for the key's plain, JSON-escaped and
// URL-encoded spellings only (split-key.ts: one byte search per spelling per chunk, on the hot path); a header
// costs little (a few short strings an answer), so it is searched for base64 as well.
import { createRedactor, escapeRegExp, SECRET_PREFIX_LENGTH, secretForms, type Redactor } from '../core/redact.js';

/**
 * The characters of a secret's base64 encoding that depend on its bytes alone, at each of the three places its
 * first byte can fall in a base64 group (a key inside a longer encoded text: `Basic base64(user:key)`), in
 * standard and URL-safe base64. The characters shared with the bytes before or after it are left out.
 */
export function base64Spellings(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const spellings = new Set<string>();
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const spelling = encoded.slice(Math.ceil((shift * 4) / 3), Math.floor((shift + bytes.length) / 3) * 4);
    spellings.add(spelling);
    spellings.add(spelling.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...spellings];
}

/** A search for any of the strings (none: a search that never matches). */
function anyOf(texts: ReadonlySet<string>): RegExp {
  return new RegExp([...texts].map(escapeRegExp).join('|') || '(?!)');
}

export class HeaderKeys {
  /** The keys and their base64 spellings (each also JSON-escaped and URL-encoded, and by any long enough part). */
  private readonly redactor: Redactor;
  /**
   * The first and last SECRET_PREFIX_LENGTH characters of every spelling, in lower case: a header name holding
   * either holds (the redactor's measure of) a key. Names arrive in lower case, and "[redacted]" is no name.
   */
  private readonly inNames: RegExp;
  /**
   * Any SECRET_PREFIX_LENGTH characters a spelling starts or ends with, which any quote the redactor replaces
   * holds: one regular expression's search for a value holding none (nearly all), rather than the redactor's
   * search for each of the two dozen or so strings it knows a key by.
   */
  private readonly mayHold: RegExp;

  constructor(keys: readonly (string | undefined)[]) {
    const secrets = keys.map((key) => key?.trim() ?? '').filter((key) => key !== '');
    this.redactor = createRedactor([...secrets, ...secrets.flatMap(base64Spellings)]);
    const parts = new Set<string>();
    if (this.redactor.active())
      for (const spelling of [...secrets.flatMap(secretForms), ...secrets.flatMap(base64Spellings).flatMap(secretForms)])
        if (this.redactor.text(spelling) !== spelling)
          for (const part of [spelling.slice(0, SECRET_PREFIX_LENGTH), spelling.slice(-SECRET_PREFIX_LENGTH)]) parts.add(part);
    this.mayHold = anyOf(parts);
    this.inNames = anyOf(new Set([...parts].map((part) => part.toLowerCase())));
  }

  /** Whether any key is known (so passing headers can skip the search). */
  active(): boolean {
    return this.redactor.active();
  }

  /** Whether a header's name (lower case) holds a key: the header is dropped. */
  inName(name: string): boolean {
    return this.inNames.test(name);
  }

  /** A header's value with every key, in any of its spellings, replaced. */
  value(text: string): string {
    return this.mayHold.test(text) ? this.redactor.text(text) : text;
  }
}
