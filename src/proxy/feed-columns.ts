// The results feed ring's storage (feed-ring.ts): typed-array columns a slot (outside the JS heap, nothing for the
// GC to walk) and the one table of the strings they name (feed-strings.ts).
import { FeedStrings, NO_STRING } from './feed-strings.js';
import * as layout from './feed-layout.js';

// Module-local copies: V8 folds them into the hot path, which it does not through import bindings (record() cost
// ~8% more CPU so, A/B at load 25).
const { COUNTS, NUMBERS, STRINGS } = layout;

export class FeedColumns {
  /** The columns' bytes a slot, whatever its result holds (its distinct strings are kept once, in FeedStrings). */
  static readonly BYTES_PER_SLOT =
    2 * Uint32Array.BYTES_PER_ELEMENT + (STRINGS + COUNTS) * Uint32Array.BYTES_PER_ELEMENT + NUMBERS * Float64Array.BYTES_PER_ELEMENT;
  readonly strings = new FeedStrings();
  /** Per slot: which fields the result has (Field.bit). */
  readonly present: Uint32Array;
  /** Per slot: the booleans' values, the kind, the quality, and which of stage, origin and WHOLE. */
  readonly flags: Uint32Array;
  /** STRINGS codes a slot (FeedStrings). */
  readonly texts: Uint32Array;
  readonly counts: Uint32Array;
  readonly numbers: Float64Array;

  constructor(capacity: number) {
    this.present = new Uint32Array(capacity);
    this.flags = new Uint32Array(capacity);
    this.texts = new Uint32Array(capacity * STRINGS);
    this.counts = new Uint32Array(capacity * COUNTS);
    this.numbers = new Float64Array(capacity * NUMBERS);
  }

  /** The string in the slot's string `column`, or undefined when it holds none. */
  text(slot: number, column: number): string | undefined {
    return this.strings.text(this.texts[slot * STRINGS + column] ?? NO_STRING);
  }

  setText(slot: number, column: number, text: string): void {
    this.texts[slot * STRINGS + column] = this.strings.hold(text);
  }

  /** Lets go of the slot's strings, but for the one in column `except`. */
  releaseTexts(slot: number, except = -1): void {
    const base = slot * STRINGS;
    for (let column = 0; column < STRINGS; column++) {
      if (column === except) continue;
      this.strings.release(this.texts[base + column] ?? NO_STRING);
      this.texts[base + column] = NO_STRING;
    }
  }

  count(slot: number, column: number): number {
    return this.counts[slot * COUNTS + column] as number;
  }

  setCount(slot: number, column: number, value: number): void {
    this.counts[slot * COUNTS + column] = value;
  }

  number(slot: number, column: number): number {
    return this.numbers[slot * NUMBERS + column] as number;
  }

  setNumber(slot: number, column: number, value: number): void {
    this.numbers[slot * NUMBERS + column] = value;
  }

  /** The columns' bytes (outside the JS heap). */
  get bytes(): number {
    return this.present.byteLength + this.flags.byteLength + this.texts.byteLength + this.counts.byteLength + this.numbers.byteLength;
  }
}
