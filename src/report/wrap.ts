// Text broken between words to a width in terminal columns (see text-width.ts), so a terminal's own wrapping never
// cuts a word ("0.0–6." / "1%"): the dashboard's messages in at most so many lines (wrap), and `status` in a
// terminal, each long line's continuation indented under where its text began (hangingWrap).
import { textWidth, truncate } from './text-width.js';

/** Word-wraps text to width, in at most maxLines lines (the last one cut with "…" if needed). */
export function wrap(text: string, width: number, maxLines: number): string[] {
  const lines = wordLines(text, width);
  if (lines.length <= maxLines) return lines.map((line) => truncate(line, width));
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = truncate(`${kept[maxLines - 1]} ${lines.slice(maxLines).join(' ')}`, width);
  return kept.map((line) => truncate(line, width));
}

/** Whether wrap(text, width, maxLines) shows every word of text whole: nothing cut, no line left out. */
export function wrapsWhole(text: string, width: number, maxLines: number): boolean {
  const lines = wordLines(text, width);
  return lines.length <= maxLines && lines.every((line) => textWidth(line) <= width);
}

/**
 * The line in pieces of at most width columns, joined by newlines; continuation lines start with `hang` spaces
 * (default, and when `hang` would leave less than MIN_ROOM columns: the line's own indent plus 2; so does a piece
 * whose first word is too long to fit after `hang`, a long rule name, if it fits there). Runs of spaces (padded
 * columns) are kept where the line is not broken. A word too long for either (a URL, a path) starts at column 0,
 * whole: it fits there, or the terminal's own wrapping goes on with it at column 0 in one block (under an indent it
 * ran past the edge and went on at column 0, ragged; a copy of it there takes the indent's spaces too).
 */
export function hangingWrap(line: string, width: number, hang?: number): string {
  if (textWidth(line) <= width) return line;
  const left = indentOf(line) + 2;
  const under = hang !== undefined && hang <= width - MIN_ROOM ? hang : left;
  return pieces(line, width, under, left).join('\n');
}

/**
 * Every line of text broken as hangingWrap breaks it, for `columns` (a terminal's width); whole when undefined
 * (piped: a script or a log keeps each line on one line, to grep).
 */
export function fittedText(text: string, columns: number | undefined): string {
  if (columns === undefined) return text;
  return text
    .split('\n')
    .map((line) => hangingWrap(line, columns))
    .join('\n');
}

/** Continuation lines narrower than this read as a column of single words: they start further left instead. */
const MIN_ROOM = 30;

/** The words of text, whatever the spaces between them, in lines of at most width (a longer word takes a line of its own, uncut). */
function wordLines(text: string, width: number): string[] {
  const words = text.split(/\s+/).filter(Boolean).join(' ');
  return words ? pieces(words, width, 0) : [];
}

/**
 * The line broken between words into pieces of at most width columns, each after the first starting with `hang`
 * spaces, or `left` when its first word fits only there.
 */
function pieces(line: string, width: number, hang: number, left = hang): string[] {
  const broken: string[] = [];
  let current = line.slice(0, indentOf(line));
  let used = current.length;
  let empty = true;
  for (const word of line.trimStart().split(' ')) {
    const columns = textWidth(word);
    if (empty || used + 1 + columns <= width) {
      current = empty ? `${current}${word}` : `${current} ${word}`;
      used += empty ? columns : 1 + columns;
      empty = word === '' && empty;
      continue;
    }
    // A padding space that does not fit is where the line breaks: not carried to the next piece.
    if (word === '') continue;
    // Padding before the break (a padded column's spaces) is not kept at the piece's end either.
    broken.push(current.trimEnd());
    const indent = hang + columns <= width ? hang : left + columns <= width ? left : 0;
    current = `${' '.repeat(indent)}${word}`;
    used = indent + columns;
  }
  broken.push(current);
  return broken;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}
