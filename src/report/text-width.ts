// Text measured and cut in terminal columns, as ink lays it out (it measures with string-width): an East Asian
// wide character or an emoji takes two columns, a combining mark or a zero-width character none.

// Characters one column wide each: ASCII, Latin, Greek, and the punctuation, arrows, maths, box and block
// characters the reports draw with. Text of these alone (nearly all) is measured by its length.
const NARROW_ONLY = /^[\x20-\x7e\xa0-\xac\xae-\u02ff\u0370-\u03ff\u2010-\u2027\u2030-\u205e\u2190-\u2319\u2500-\u25fc]*$/;

/** A character that takes a column: not a control, format, non-spacing or enclosing mark, nor a lone surrogate. */
const VISIBLE = /[^\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Mn}\p{Me}\p{Cs}]/u;
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}/u;
const EMOJI = /^\p{Emoji}/u;
/** After a grapheme's base, these take columns of their own: spacing marks (Devanagari's), half- and fullwidth forms (ﾟ). */
const TRAILING = /[\p{Mc}\uff00-\uffef]/gu;

/** East Asian Wide and Fullwidth blocks (UAX #11), first and last code point. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul initial consonants (a syllable of jamo is one grapheme, two columns)
  [0x2329, 0x232a],
  [0x2630, 0x2637], // trigrams
  [0x268a, 0x268f], // digrams
  [0x2e80, 0x303e], // CJK radicals, symbols and punctuation
  [0x3041, 0x3247], // kana, bopomofo, CJK strokes and enclosed letters
  [0x3250, 0x33ff],
  [0x3400, 0x9fff], // CJK unified ideographs, extension A, hexagrams
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f], // CJK compatibility and small forms
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6],
  [0x16fe0, 0x18dff], // Tangut, Khitan
  [0x1aff0, 0x1b2ff], // kana supplements, Nushu
  [0x1d300, 0x1d376], // Tai Xuan Jing, counting rods
  [0x1f200, 0x1f265], // enclosed ideographs
  [0x20000, 0x3fffd], // CJK extensions B and on
];

// Graphemes, as a terminal draws them: a base character with its marks, an emoji sequence.
const graphemes = new Intl.Segmenter();

/** The columns text takes in a terminal. */
export function textWidth(text: string): number {
  if (NARROW_ONLY.test(text)) return text.length;
  let width = 0;
  for (const { segment } of graphemes.segment(text)) width += graphemeWidth(segment);
  return width;
}

/** Cuts text to width columns, ending with "…" when something was cut; a wide character is never halved. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (NARROW_ONLY.test(text)) return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
  if (textWidth(text) <= width) return text;
  let kept = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const columns = graphemeWidth(segment);
    if (used + columns > width - 1) break;
    kept += segment;
    used += columns;
  }
  return `${kept}…`;
}

function graphemeWidth(grapheme: string): number {
  const start = grapheme.search(VISIBLE);
  if (start === -1) return 0;
  const base = grapheme.slice(start);
  // An emoji drawn as one (🚀, a flag, a family joined by ZWJ) or asked to be (❤️, 1️⃣ with U+FE0F).
  if (EMOJI_PRESENTATION.test(base) || (grapheme.includes('\uFE0F') && EMOJI.test(base))) return 2;
  const first = base.codePointAt(0) ?? 0;
  let width = isWide(first) ? 2 : 1;
  for (const [mark] of base.slice(first > 0xffff ? 2 : 1).matchAll(TRAILING)) width += isWide(mark.codePointAt(0) ?? 0) ? 2 : 1;
  return width;
}

function isWide(codePoint: number): boolean {
  return WIDE.some(([first, last]) => codePoint >= first && codePoint <= last);
}
