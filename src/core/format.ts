// How numbers read everywhere (breach messages, dashboard, lines, reports), so they all agree.

/** What a figure measures, which decides how it is written. */
export type FigureUnit = 'ratio' | 'ms' | 'count' | 'factor';

const missing = (value: number | null | undefined): value is null | undefined => value === null || value === undefined || !Number.isFinite(value);

/**
 * 0.312 -> "31.2%". Without digits, under 1% keeps two decimals so a 0.5% limit does not read as "0.5%" vs
 * "1%". A share above 0 but under 0.005% keeps its first digit ("0.003%", not "0.00%", which read as none at all),
 * down to "<0.0001%". null, undefined and non-finite read "-".
 */
export function formatPercent(ratio: number | null | undefined, digits?: number): string {
  if (missing(ratio)) return '-';
  const percent = ratio * 100;
  if (digits === undefined && percent !== 0 && Math.abs(percent) < 0.005) return tiny(percent, '%');
  const places = digits ?? (percent !== 0 && Math.abs(percent) < 1 ? 2 : 1);
  return `${percent.toFixed(places)}%`;
}

/** Smallest figure given with its own digit; below it, "<0.0001". */
const TINY_FLOOR = 0.0001;

/** A figure above 0 that two decimals would write as 0.00: its first significant digit ("0.003"), or "<0.0001". */
function tiny(value: number, unit: string): string {
  const size = Math.abs(value);
  if (size < TINY_FLOOR) return `${value < 0 ? '>-' : '<'}${TINY_FLOOR}${unit}`;
  return `${value.toFixed(Math.ceil(-Math.log10(size)))}${unit}`;
}

/** A weight as people say it: 0.1 -> "10%", 0.125 -> "12.5%". */
export function formatWeight(weight: number): string {
  const percent = Math.round(weight * 1000) / 10;
  // A weight the rounding would show as none or all is neither: 0.0004 sends green some traffic, 0.9996 leaves blue some.
  if (percent === 0 && weight > 0) return '<0.1%';
  if (percent === 100 && weight < 1) return '>99.9%';
  return `${percent}%`;
}

// Figures read together (a figure beside its limit and interval, a column of costs) take one number of decimals:
// the most any of them needs alone. "+0.40pt / +3.0pt" and "$0.0040" above "$0.17" read as different precisions of
// one quantity; pointsDecimals and usdDecimals take every figure shown together and give the decimals for all.

/** Decimals for differences in points: 2 when one is under a point (a 0.5-point margin is not "0" or "1"), else 1. */
export function pointsDecimals(...diffs: readonly (number | null | undefined)[]): number {
  return Math.max(1, ...diffs.map((diff) => (!missing(diff) && diff !== 0 && Math.abs(diff * 100) < 1 ? 2 : 1)));
}

/** A difference of two rates in percentage points, signed: 0.07 -> "+7.0" (decimals: see pointsDecimals). */
export function formatPoints(diff: number, decimals = pointsDecimals(diff)): string {
  const points = diff * 100;
  return `${points >= 0 ? '+' : '-'}${Math.abs(points).toFixed(decimals)}`;
}

/** 6200 -> "6.20s", 950 -> "950ms", 0.4 -> "0.4ms"; null reads "-". */
export function formatMs(ms: number | null | undefined): string {
  if (missing(ms)) return '-';
  // 999.6 would round to "1000ms": switch to seconds where the rounding would.
  if (ms >= 999.5) return `${(ms / 1000).toFixed(2)}s`;
  if (ms >= 10) return `${Math.round(ms)}ms`;
  return `${Number(ms.toFixed(1))}ms`;
}

/** 3.1 -> "3.10x"; a ratio above 0 under 0.005 keeps its first digit ("0.003x", not "0.00x"), down to "<0.0001x". */
export function formatFactor(factor: number): string {
  if (factor !== 0 && Math.abs(factor) < 0.005) return tiny(factor, 'x');
  return `${factor.toFixed(2)}x`;
}

export function formatFigure(value: number, unit: FigureUnit): string {
  switch (unit) {
    case 'ratio':
      return formatPercent(value);
    case 'ms':
      return formatMs(value);
    case 'factor':
      return formatFactor(value);
    case 'count':
      return String(value);
  }
}

/** The most decimals a cost shows: a ten-thousandth of a dollar; less reads "<$0.0001". */
const USD_MAX_DECIMALS = 4;

/**
 * Decimals for costs: cents (2), or more for one under 10 cents so it keeps two significant digits ("$0.012",
 * "$0.0040"), up to 4.
 */
export function usdDecimals(...costs: readonly (number | null | undefined)[]): number {
  const needed = (usd: number) => Math.min(USD_MAX_DECIMALS, Math.max(2, Math.ceil(-Math.log10(Math.abs(usd))) + 1));
  return Math.max(2, ...costs.map((usd) => (missing(usd) || usd === 0 ? 2 : needed(usd))));
}

/** 0.17 -> "$0.17", 0.004 -> "$0.0040", 0 -> "$0", null -> "-" (decimals: see usdDecimals). */
export function formatUsd(usd: number | null | undefined, decimals = usdDecimals(usd)): string {
  if (missing(usd)) return '-';
  if (usd === 0) return '$0';
  if (Math.abs(usd) < 10 ** -USD_MAX_DECIMALS) return '<$0.0001';
  return `$${usd.toFixed(decimals)}`;
}

/** 9779 -> "9,779"; -0 (a difference of equal counts, a rounded -0.4) reads "0", not "-0". */
export function formatCount(n: number): string {
  return (n === 0 ? 0 : n).toLocaleString('en-US');
}

/** "1 request", "3 requests": a count and its noun (regular plurals only). */
export function formatPlural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Milliseconds for people: 850ms, 12.5s, 4m05s, 1h02m. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) {
    const seconds = abs / 1000;
    return `${sign}${seconds < 10 ? seconds.toFixed(1).replace(/\.0$/, '') : Math.round(seconds)}s`;
  }
  const totalSeconds = Math.round(abs / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${sign}${hours}h${String(minutes).padStart(2, '0')}m`;
  return `${sign}${minutes}m${String(seconds).padStart(2, '0')}s`;
}

/**
 * C0 and C1 control characters (terminal escapes, line breaks, bells), Unicode's line and paragraph separators, and
 * its bidirectional controls: an override or isolate makes text display in an order other than its own, so a name
 * could show as another or hide what follows it ("Trojan Source", CVE-2021-42574). A character class's body, for
 * the plan schema's pattern too.
 */
export const CONTROL_CHARACTER_RANGES = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069';

/** The control characters, as a new expression each call: a shared global one holds state (its lastIndex). */
function controlCharacters(): RegExp {
  return new RegExp(`[${CONTROL_CHARACTER_RANGES}]`, 'g');
}

/**
 * Text quoted whole (a key, a path from a plan) with its control characters shown escaped (`\u001b`) rather than
 * dropped: it cannot rewrite the terminal or start a line of its own, and the reader still sees what was there.
 */
export function escapeControls(text: string): string {
  return text.replace(controlCharacters(), (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A record read from a file (state.json, the journal) with escapeControls applied to every string in it, for text
 * meant for a terminal: a hand-edited message's escape sequence, or its newline starting a line of its own, is shown
 * as written instead of acting. Plain data only (objects, arrays, primitives), as JSON.parse gives.
 */
export function escapeControlsIn<T>(value: T): T {
  if (typeof value === 'string') return escapeControls(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => escapeControlsIn(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, escapeControlsIn(item)])) as T;
}

/**
 * Text from outside (an upstream's error, a hook's output, a webhook's answer) as one short line: control
 * characters (terminal escapes, OSC title sequences, bells) become spaces, so they never reach an operator's
 * terminal or a CI log, whitespace is collapsed, and the whole is cut to `max` characters.
 */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(controlCharacters(), ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
