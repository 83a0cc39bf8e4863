// One word wrapper for the dashboard and `status`, counting terminal columns.
import { describe, expect, it } from 'vitest';
import { hangingWrap, wrap, wrapsWhole } from '../../src/report/wrap.js';

describe('wrap', () => {
  it('wraps words and cuts the last allowed line', () => {
    expect(wrap('green error_rate 31.2% > 5.0% over 48 requests', 20, 3)).toEqual(['green error_rate', '31.2% > 5.0% over 48', 'requests']);
    expect(wrap('one two three four five six', 9, 2)).toEqual(['one two', 'three fo…']);
    expect(wrap('', 9, 2)).toEqual([]);
    // Whether it showed every word whole: the dashboard then points at the whole text elsewhere.
    expect(wrapsWhole('one two three', 9, 2)).toBe(true);
    expect(wrapsWhole('one two three four five six', 9, 2)).toBe(false);
    expect(wrapsWhole('http://127.0.0.1:8788/admin/route', 9, 2)).toBe(false);
    expect(wrapsWhole('one  two\nthree', 9, 2)).toBe(true);
  });

  it('counts wide characters as the two columns they take', () => {
    expect(wrap('モデル 日本語 テスト', 8, 3)).toEqual(['モデル', '日本語', 'テスト']);
    expect(wrapsWhole('モデル 日本語', 8, 1)).toBe(false);
    expect(wrap('🚀 launch 🚀 now', 9, 2)).toEqual(['🚀 launch', '🚀 now']);
  });
});

describe('hangingWrap', () => {
  it('breaks between words under where the text began, keeping padded columns where it does not break', () => {
    const line = `    12:00:01.000 ${'stage_passed'.padEnd(16)} ${'stage 2 passed after 400 requests on green '.repeat(2).trim()}`;
    const pieces = hangingWrap(line, 70, 34).split('\n');
    expect(pieces).toEqual([
      '    12:00:01.000 stage_passed     stage 2 passed after 400 requests on',
      `${' '.repeat(34)}green stage 2 passed after 400`,
      `${' '.repeat(34)}requests on green`,
    ]);
    expect(hangingWrap('short  padded', 60)).toBe('short  padded');
  });

  it('starts a word too long for the hang further left, where it fits, rather than leave the terminal to cut it', () => {
    // At 80 columns under an event's message (column 34), a 47-column rule name and its ")" wrapped to a line of its own.
    const rule = 'compare_to_blue.max_quality_fail_rate_increase';
    // As `status` prints the event (formatEventLine: no "stage 5:" before a message that names its stage).
    const line = `    12:00:01.000 ${'stage_passed'.padEnd(16)} stage 5/5 passed at 100% green (undecided: ${rule})`;
    const pieces = hangingWrap(line, 80, 34).split('\n');
    expect(pieces).toEqual(['    12:00:01.000 stage_passed     stage 5/5 passed at 100% green (undecided:', `      ${rule})`]);
    // Too long even there: whole, at column 0, where it fits (a terminal's wrapping of a longer one goes on there too).
    expect(hangingWrap(`    ${'a'.repeat(30)} ${'b'.repeat(80)}`, 80, 34).split('\n')[1]).toBe('b'.repeat(80));
  });

  it("puts a URL too long for the line's indent at column 0, whole, and goes on under the indent after it", () => {
    // `status` at 70 columns: a live line's continuation is at 6 columns, and a 66-column admin URL ran past the
    // edge there, its last characters wrapped by the terminal to column 0.
    const url = `https://bluegreen-proxy-admin.eu-west-1.internal.example.com:8788`;
    expect(url).toHaveLength(65);
    const pieces = hangingWrap(`    unreachable  ${url}  refused the admin token in ADMIN_TOKEN (401)`, 70).split('\n');
    expect(pieces).toEqual(['    unreachable', url, '      refused the admin token in ADMIN_TOKEN (401)']);
    expect(pieces.every((piece) => piece.length <= 70)).toBe(true);
  });

  it('breaks a line of wide characters by the columns they take', () => {
    const line = '  gpt-4o (blue) -> 日本語モデル-2025 (green), 日本語の説明が長いモデル名 のテスト';
    expect(line.length).toBeLessThanOrEqual(60);
    // 36 columns to "-2025", 45 to "(green),": 31 and 39 characters.
    expect(hangingWrap(line, 40).split('\n')).toEqual(['  gpt-4o (blue) -> 日本語モデル-2025', '    (green), 日本語の説明が長いモデル名', '    のテスト']);
  });
});
