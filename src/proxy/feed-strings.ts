// The strings the results feed's ring holds (feed-ring.ts), each kept once and named by a number: a proxy's results
// repeat a few values (arm, model, finish reason, failure class, the rollout run) a hundred thousand times over. Each
// number counts the ring's slots holding it, and a string no slot holds any more is dropped: what this keeps is
// bounded by the ring, however many distinct error messages or client digests pass through it.

/** Code 0: no string. */
export const NO_STRING = 0;

export class FeedStrings {
  private readonly codes = new Map<string, number>();
  /** By code; index 0 unused (NO_STRING). */
  private readonly strings: (string | undefined)[] = [undefined];
  private holders = new Uint32Array(64);
  /** Codes of strings dropped, given to the next new ones. */
  private readonly free: number[] = [];

  /** The string's code, held once more (a slot now holds it). */
  hold(text: string): number {
    let code = this.codes.get(text);
    if (code === undefined) {
      code = this.free.pop() ?? this.strings.length;
      this.strings[code] = text;
      this.codes.set(text, code);
      if (code >= this.holders.length) {
        const grown = new Uint32Array(this.holders.length * 2);
        grown.set(this.holders);
        this.holders = grown;
      }
    }
    this.holders[code] = (this.holders[code] ?? 0) + 1;
    return code;
  }

  /** A slot holding `code` no longer does: the string goes once no slot holds it. */
  release(code: number): void {
    if (code === NO_STRING) return;
    const left = (this.holders[code] ?? 1) - 1;
    this.holders[code] = left;
    if (left > 0) return;
    const text = this.strings[code];
    if (text !== undefined) this.codes.delete(text);
    this.strings[code] = undefined;
    this.free.push(code);
  }

  /** The string of a code held; undefined for NO_STRING. */
  text(code: number): string | undefined {
    return this.strings[code];
  }

  /** Distinct strings held now (tests: dropped ones do not stay). */
  get size(): number {
    return this.codes.size;
  }
}
