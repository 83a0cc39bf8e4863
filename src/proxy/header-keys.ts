// The upstream keys kept out of the answer headers passed to the application. An upstream (a relay, a gateway's
// debug header) may echo a key in a header's value, encoded as headers carry credentials (Basic auth, a
// base64-encoded token), in hex (a dump of the request's bytes), as JSON \uXXXX escapes, or upper- or lower-cased,
// or in a header's name. Answer bodies are searched for the key's plain, JSON-escaped and URL-encoded spellings
// chunk by chunk (split-key.ts: one byte search per spelling per chunk, on the hot path); a whole answer (read
// before it is passed on) and a header cost little more, so they are searched for the other spellings as well.
import { createRedactor, escapeRegExp, SECRET_PREFIX_LENGTH, secretForms, type Redactor } from '../core/redact.js';
import { base64Spellings, otherSpellings } from '../core/secret-spellings.js';

/**
 * Whether a whole answer, as text (answer-text.ts), may quote a key in one of its other spellings
 * (otherSpellings): one search per distinct start, no allocation. Its redactor then finds them as it finds the others.
 */
export class OtherSpellings {
  private readonly starts: string[];

  constructor(secrets: readonly string[]) {
    // Each also JSON-escaped and URL-encoded (an escaped key quoted in a JSON string), as the redactor knows them.
    const spellings = secrets.flatMap(otherSpellings).flatMap(secretForms);
    this.starts = [...new Set(spellings.map((spelling) => spelling.slice(0, SECRET_PREFIX_LENGTH)))];
  }

  /**
   * A string's search, not a Buffer's: Buffer.includes is a call into C++ with its checks each time (~950
   * instructions for a 400-byte answer), String.includes V8's own (~340); an answer is searched for ~7 starts.
   */
  mayQuote(text: string): boolean {
    for (const start of this.starts) if (text.includes(start)) return true;
    return false;
  }
}

/**
 * Names whose verdict (inName) is kept: an upstream sends the same few dozen names on every answer, and a map's
 * lookup costs a fraction of the search. Bounded in count and length: an upstream inventing names costs no memory.
 */
const NAMES_KEPT = 256;
const NAME_KEPT_LENGTH = 64;

/** A search for any of the strings (none: a search that never matches). */
function anyOf(texts: ReadonlySet<string>): RegExp {
  return new RegExp([...texts].map(escapeRegExp).join('|') || '(?!)');
}

export class HeaderKeys {
  /** The keys, their base64 and other spellings (each also JSON-escaped and URL-encoded, and by any long enough part). */
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
  /** The shortest of those parts: a value shorter holds none (a length, a count, a short word), unsearched. */
  private readonly shortest: number;
  /** inName's verdicts on names seen (NAMES_KEPT). */
  private readonly nameVerdicts = new Map<string, boolean>();

  constructor(keys: readonly (string | undefined)[]) {
    const secrets = keys.map((key) => key?.trim() ?? '').filter((key) => key !== '');
    const encoded = [...secrets.flatMap(base64Spellings), ...secrets.flatMap(otherSpellings)];
    this.redactor = createRedactor([...secrets, ...encoded]);
    const parts = new Set<string>();
    if (this.redactor.active())
      for (const spelling of [...secrets.flatMap(secretForms), ...encoded.flatMap(secretForms)])
        if (this.redactor.text(spelling) !== spelling)
          for (const part of [spelling.slice(0, SECRET_PREFIX_LENGTH), spelling.slice(-SECRET_PREFIX_LENGTH)]) parts.add(part);
    this.mayHold = anyOf(parts);
    this.shortest = Math.min(...[...parts].map((part) => part.length));
    this.inNames = anyOf(new Set([...parts].map((part) => part.toLowerCase())));
  }

  /** Whether any key is known (so passing headers can skip the search). */
  active(): boolean {
    return this.redactor.active();
  }

  /** Whether a header's name (lower case) holds a key: the header is dropped. */
  inName(name: string): boolean {
    const known = this.nameVerdicts.get(name);
    if (known !== undefined) return known;
    const holds = this.inNames.test(name);
    if (this.nameVerdicts.size < NAMES_KEPT && name.length <= NAME_KEPT_LENGTH) this.nameVerdicts.set(name, holds);
    return holds;
  }

  /** A header's value with every key, in any of its spellings, replaced. */
  value(text: string): string {
    return text.length >= this.shortest && this.mayHold.test(text) ? this.redactor.text(text) : text;
  }
}
