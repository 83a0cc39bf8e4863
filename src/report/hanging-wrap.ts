// Plain text for a terminal of a known width: a long line is broken between words, its continuation lines
// indented under where its text began, so a terminal's own wrapping never cuts a word ("0.0–6." / "1%").

/**
 * The line in pieces of at most width columns, joined by newlines; continuation lines start with `hang` spaces
 * (default, and when `hang` would leave less than MIN_ROOM columns: the line's own indent plus 2). Runs of spaces
 * (padded columns) are kept where the line is not broken; a word longer than a piece is left whole, for the
 * terminal to wrap.
 */
export function hangingWrap(line: string, width: number, hang?: number): string {
  if (line.length <= width) return line;
  const under = hang !== undefined && hang <= width - MIN_ROOM ? hang : indentOf(line) + 2;
  const pieces: string[] = [];
  let current = line.slice(0, indentOf(line));
  let empty = true;
  for (const word of line.trimStart().split(' ')) {
    if (empty || current.length + 1 + word.length <= width) {
      current = empty ? `${current}${word}` : `${current} ${word}`;
      empty = word === '' && empty;
      continue;
    }
    // A padding space that does not fit is where the line breaks: not carried to the next piece.
    if (word === '') continue;
    pieces.push(current);
    current = `${' '.repeat(under)}${word}`;
  }
  pieces.push(current);
  return pieces.join('\n');
}

/** Continuation lines narrower than this read as a column of single words: they start further left instead. */
const MIN_ROOM = 30;

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}
