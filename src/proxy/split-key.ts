// A key an upstream echoes in a streamed answer may arrive split across two chunks (or more): each chunk alone
// quotes too little of it to be recognised, so the redaction of whole chunks lets it through. A chunk's tail
// that is the start of a key is held back until the next chunk says whether the key goes on; the held bytes
// go out with the next chunk (redacted when the key completes) or at the end, and a cut stream drops them.
//
// Only a tail of at least HOLD_FROM characters of a key's start is held. A shorter one ("s", "sk", "sk-") goes
// out at once, and if the next chunk goes on with the key, the rest of the key is redacted there: at most
// HOLD_FROM - 1 leading characters of a key ever reach the client. Those are the vendor's public prefix ("sk-")
// or 3 characters of a random key of 32 or more, and a chunk of ordinary text ends with the same 4 bytes as a
// key's start about once in 2^24 chunk ends (SSE chunks end with a blank line), so no normal chunk waits.
//
// Matching works on latin1 text: one character per byte, so bytes pass unchanged and a multi-byte character
// split by the chunk boundary is never mangled. Keys travel in HTTP headers, so they are ASCII.
import { SECRET_PREFIX_LENGTH, secretForms, type Redactor } from '../core/redact.js';

/** The fewest leading characters of a key a chunk's tail must match to be held back (see above). */
export const HOLD_FROM = 4;

/** The upstream keys' spellings, built once per proxy; each streamed answer that needs it gets a SplitKeyStream. */
export class SplitKeys {
  private readonly forms: string[];
  /** Each form's first SECRET_PREFIX_LENGTH bytes (all of it when shorter): what the redactor counts as the key. */
  private readonly starts: Buffer[];
  /** The same as text, for a whole answer's search (mayQuote). */
  private readonly startTexts: string[];

  constructor(
    secrets: readonly (string | undefined)[],
    readonly redactor: Redactor,
  ) {
    const forms = new Set<string>();
    for (const secret of secrets) {
      // The redactor ignores what it does not count as a secret; so does this.
      const trimmed = secret?.trim();
      if (trimmed && redactor.text(trimmed) !== trimmed)
        for (const form of secretForms(trimmed)) if (form.length > HOLD_FROM && /^[\x20-\x7e]+$/.test(form)) forms.add(form);
    }
    this.forms = [...forms];
    // Spellings alike at the start (a key of letters, digits, "-" and "_", the usual case) are searched once.
    this.startTexts = [...new Set(this.forms.map((form) => form.slice(0, SECRET_PREFIX_LENGTH)))];
    this.starts = this.startTexts.map((start) => Buffer.from(start, 'latin1'));
  }

  /**
   * Whether a whole answer, as text (answer-text.ts), may quote a key in any of its spellings (as is,
   * JSON-escaped, URL-encoded): one search per distinct start of a spelling, and nothing allocated. Only then does
   * it go through the redactor. The spellings are ASCII, which a text decoded from the bytes holds where they do.
   */
  mayQuote(text: string): boolean {
    for (const start of this.startTexts) if (text.includes(start)) return true;
    return false;
  }

  /**
   * Whether the chunk may quote a key or ends with a key's start (one character or more). Most chunks cost one
   * search for each key's first SECRET_PREFIX_LENGTH bytes (the redactor counts those as the key, so any quote
   * holds them, and so does any longer tail) and a look at their last few bytes. Not the first HOLD_FROM bytes
   * alone: those recur in ordinary text (a key "bench-..." and a model "bench-model"), and every such chunk
   * was copied through the redactor.
   */
  needsCare(chunk: Buffer): boolean {
    for (const start of this.starts) if (chunk.includes(start) || endsWithStartOf(chunk, start)) return true;
    return false;
  }

  /** Whether `chunk` goes on with a key whose first `sent` characters came before. */
  continues(sent: string, chunk: Buffer): boolean {
    return this.forms.some((form) => form.startsWith(sent) && chunk[0] === form.charCodeAt(sent.length));
  }

  /** The length of the longest start of a key (not a whole one) that `text` ends with; 0 when none. */
  keyTail(text: string): number {
    let longest = 0;
    for (const form of this.forms) {
      const first = form.charCodeAt(0);
      for (let at = Math.max(0, text.length - form.length + 1); at < text.length - longest; at++) {
        if (text.charCodeAt(at) === first && form.startsWith(text.slice(at))) {
          longest = text.length - at;
          break;
        }
      }
    }
    return longest;
  }

  stream(): SplitKeyStream {
    return new SplitKeyStream(this);
  }
}

/** One streamed answer's state: what of a key's start was written, and what is held back. */
export class SplitKeyStream {
  /** Written already: the start of a key, fewer than HOLD_FROM characters. */
  private sent = '';
  /** Held back: the start of a key (after `sent`), at least HOLD_FROM characters with it. */
  private held = '';

  constructor(private readonly keys: SplitKeys) {}

  /** The bytes to write for this chunk now (maybe none: all held back), redacted. */
  pass(chunk: Buffer): Buffer {
    const { keys } = this;
    if (this.held === '' && (this.sent === '' || !keys.continues(this.sent, chunk))) {
      this.sent = '';
      if (!keys.needsCare(chunk)) return chunk;
    }
    const text = this.sent + this.held + chunk.toString('latin1');
    const written = this.sent.length;
    const tail = keys.keyTail(text);
    // Only what the client does not have yet can be held.
    const hold = tail >= HOLD_FROM ? Math.min(tail, text.length - written) : 0;
    const out = this.emit(text.slice(0, text.length - hold), written);
    if (hold > 0) {
      this.sent = text.slice(text.length - tail, text.length - hold);
      this.held = text.slice(text.length - hold);
    } else {
      this.held = '';
      // Remembered only as the client has it (a redaction may have replaced the text's end).
      const end = text.slice(text.length - tail);
      this.sent = tail > 0 && (this.sent + out.toString('latin1')).endsWith(end) ? end : '';
    }
    return out;
  }

  /** The end of the stream: what is held goes out (redacted if it is enough of a key to count as one). */
  finish(): Buffer | undefined {
    if (this.held === '') return undefined;
    const out = this.emit(this.sent + this.held, this.sent.length);
    this.sent = this.held = '';
    return out;
  }

  /**
   * `text` redacted, less its first `written` characters, which the client has. A key that began in them (a
   * short start written at once) is cut from where the redaction begins: the client has those few characters.
   */
  private emit(text: string, written: number): Buffer {
    const clean = this.keys.redactor.text(text);
    let from = written;
    if (clean !== text) {
      let same = 0;
      while (same < written && clean.charCodeAt(same) === text.charCodeAt(same)) same++;
      from = same;
    }
    return Buffer.from(from === 0 ? clean : clean.slice(from), 'latin1');
  }
}

/** Whether `chunk` ends with the first 1 to start.length - 1 bytes of `start`. */
function endsWithStartOf(chunk: Buffer, start: Buffer): boolean {
  const end = chunk.length;
  const first = start[0];
  for (let j = Math.min(start.length - 1, end); j >= 1; j--) {
    if (chunk[end - j] !== first) continue;
    let k = 1;
    while (k < j && chunk[end - j + k] === start[k]) k++;
    if (k === j) return true;
  }
  return false;
}
