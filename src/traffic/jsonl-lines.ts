// The lines of a JSONL file, read as bytes with a cap on each line's length. readline keeps a whole line in
// one string however long it is: a file without newlines (a JSON array, a binary file) grew that string
// until V8 refused ("Invalid string length"), thrown from inside readline as an uncaught exception. Here a
// line past the cap is dropped as it streams in and reported as too long, so memory stays bounded.
import { formatCount } from '../core/format.js';

/** Longest sampled line replayed: far above any real chat request body (the proxy's own default limit is 4 MiB). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** A line's text (without its line ending), or how long a line was that passed the cap. */
export type JsonlLine = { text: string } | { tooLong: number };

const NEWLINE = 0x0a;
const RETURN = 0x0d;

/**
 * Splits a byte stream into lines on \n, \r\n or a lone \r (as readline did), as the bytes stream in: a file whose
 * lines end in \r alone is cut line by line too, not kept whole as one line. Each yielded item is one line; a line
 * longer than maxLineBytes (its ending not counted) is yielded as { tooLong } without being kept.
 */
export async function* jsonlLines(input: AsyncIterable<Buffer>, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<JsonlLine> {
  let parts: Buffer[] = [];
  let length = 0;
  let overflow = false;
  /** The last chunk ended in a \r: a \n opening the next one belongs to the same line break. */
  let afterReturn = false;

  const take = (piece: Buffer) => {
    length += piece.length;
    if (overflow) return;
    if (length > maxLineBytes) {
      overflow = true;
      parts = [];
    } else if (piece.length > 0) {
      parts.push(piece);
    }
  };
  const finish = (): JsonlLine => {
    const line = overflow ? { tooLong: length } : { text: (parts.length === 1 ? parts[0]! : Buffer.concat(parts, length)).toString('utf8') };
    parts = [];
    length = 0;
    overflow = false;
    return line;
  };

  for await (const chunk of input) {
    if (chunk.length === 0) continue;
    let start = afterReturn && chunk[0] === NEWLINE ? 1 : 0;
    afterReturn = false;
    // The next \n and \r from `start`, each searched again only once passed (-1: none left in this chunk).
    let newline = chunk.indexOf(NEWLINE, start);
    let ret = chunk.indexOf(RETURN, start);
    while (newline !== -1 || ret !== -1) {
      const end = newline === -1 ? ret : ret === -1 ? newline : Math.min(newline, ret);
      take(chunk.subarray(start, end));
      yield finish();
      start = end + 1;
      if (end === ret) {
        if (start === chunk.length) afterReturn = true;
        else if (chunk[start] === NEWLINE) start++;
      }
      if (newline !== -1 && newline < start) newline = chunk.indexOf(NEWLINE, start);
      if (ret !== -1 && ret < start) ret = chunk.indexOf(RETURN, start);
    }
    take(chunk.subarray(start));
  }
  if (length > 0 || overflow) yield finish();
}

/** Why a too-long line is skipped: "longer than 16,777,216 bytes (...)". */
export function tooLongProblem(maxLineBytes: number): string {
  return `longer than ${formatCount(maxLineBytes)} bytes (a file without line breaks?)`;
}
