// Text measured and cut in terminal columns, as ink lays it out: string-width (ink's own measure) gives an East
// Asian wide character or an emoji two columns, a combining mark or a zero-width character none.
import stringWidth from 'string-width';

// Characters one column wide each: ASCII, Latin, Greek, and the punctuation, arrows, maths, box and block
// characters the reports draw with. Text of these alone (nearly all) is measured by its length, without
// string-width's grapheme walk.
const NARROW_ONLY = /^[\x20-\x7e\xa0-\xac\xae-\u02ff\u0370-\u03ff\u2010-\u2027\u2030-\u205e\u2190-\u2319\u2500-\u25fc]*$/;

// Graphemes, as a terminal draws them: a base character with its marks, an emoji sequence.
const graphemes = new Intl.Segmenter();

/** The columns text takes in a terminal. */
export function textWidth(text: string): number {
  return NARROW_ONLY.test(text) ? text.length : stringWidth(text);
}

/** Cuts text to width columns, ending with "…" when something was cut; a wide character is never halved. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (NARROW_ONLY.test(text)) return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
  if (stringWidth(text) <= width) return text;
  let kept = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const columns = stringWidth(segment);
    if (used + columns > width - 1) break;
    kept += segment;
    used += columns;
  }
  return `${kept}…`;
}
