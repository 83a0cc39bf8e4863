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

/**
 * Splits a byte stream into lines on \n, \r\n or a lone \r (as readline did). Each yielded item is one line;
 * a line longer than maxLineBytes is yielded as { tooLong } without being kept.
 */
export async function* jsonlLines(input: AsyncIterable<Buffer>, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<JsonlLine> {
  let parts: Buffer[] = [];
  let length = 0;
  let overflow = false;

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
  function* finish(): Generator<JsonlLine> {
    if (overflow) {
      yield { tooLong: length };
    } else {
      const text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts, length)).toString('utf8');
      if (!text.includes('\r')) yield { text };
      // \r\n ends one line; a lone \r is a line break of its own.
      else for (const line of text.replace(/\r$/, '').split('\r')) yield { text: line };
    }
    parts = [];
    length = 0;
    overflow = false;
  }

  for await (const chunk of input) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE, start); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      take(chunk.subarray(start, end));
      yield* finish();
      start = end + 1;
    }
    take(chunk.subarray(start));
  }
  if (length > 0 || overflow) yield* finish();
}

/** Why a too-long line is skipped: "longer than 16,777,216 bytes (...)". */
export function tooLongProblem(maxLineBytes: number): string {
  return `longer than ${formatCount(maxLineBytes)} bytes (a file without line breaks?)`;
}
