// Fixed-width text pieces for the dashboard: padding, bars, a sparkline and compact numbers, in terminal columns.
import { formatCount, formatUsd, usdDecimals } from '../../core/format.js';
import { textWidth, truncate } from '../text-width.js';

/** Pads or cuts text to exactly width columns. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(text, width);
  const pad = ' '.repeat(Math.max(0, width - textWidth(cut)));
  return align === 'left' ? cut + pad : pad + cut;
}

/** Splits a bar of width columns at fraction (clamped to 0..1): how many cells are full. */
export function barCells(fraction: number, width: number): { full: number; empty: number } {
  const safe = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.round(safe * width);
  return { full, empty: width - full };
}

const SPARKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * The last `width` values as block characters, scaled so that `scaleMax` (e.g. the error-rate limit) is a full
 * block; values above it are clamped. A zero reads as the lowest block, so the line's length stays visible.
 */
export function sparkline(values: readonly number[], scaleMax: number, width: number): string {
  if (width <= 0) return '';
  const top = scaleMax > 0 ? scaleMax : Math.max(...values, 0);
  return values
    .slice(-width)
    .map((value) => {
      if (!(top > 0) || !Number.isFinite(value) || value <= 0) return SPARKS[0];
      const level = Math.min(SPARKS.length - 1, Math.ceil((value / top) * (SPARKS.length - 1)));
      return SPARKS[level];
    })
    .join('');
}

/** 12 -> "12", 9779 -> "9,779", 123456 -> "123k", 1977066 -> "1.98M". At most 5 columns up to 999M. */
export function compactCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const abs = Math.abs(n);
  if (abs < 10_000) return formatCount(Math.round(n));
  if (abs < 1_000_000) return `${Math.round(n / 1000)}k`;
  if (abs < 10_000_000) return `${(n / 1_000_000).toFixed(2)}M`;
  if (abs < 1_000_000_000) return `${Math.round(n / 1_000_000)}M`;
  return `${(n / 1_000_000_000).toFixed(1)}G`;
}

/** compactCount in at most 4 columns (the error column): 9779 -> "9779", 1977066 -> "2.0M", never cut to "9,7…". */
export function compactCountNarrow(n: number): string {
  const text = compactCount(n);
  if (text.length <= 4) return text;
  const abs = Math.abs(n);
  if (abs < 10_000) return String(Math.round(n));
  if (abs < 10_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  return `${Math.round(n / 1_000_000_000)}G`;
}

/** A rate in at most 5 columns: "0.5%", "12.3%", "100%"; "-" when unknown. */
export function compactPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '-';
  if (ratio >= 0.9995) return `${Math.round(ratio * 100)}%`;
  return `${(ratio * 100).toFixed(1)}%`;
}

/** A latency in at most 5 columns: "845ms", "1.46s", "12.3s", "125s". */
export function compactMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 9.995) return `${s.toFixed(2)}s`;
  if (s < 99.95) return `${s.toFixed(1)}s`;
  return `${Math.round(s)}s`;
}

/** The dashboard's cost column: 6 columns. */
const USD_WIDTH = 6;

/**
 * A cost in at most 6 columns, with `decimals` (usdDecimals of its whole column, core/format.ts) where they fit:
 * "$0", "$0.012", "$0.172", "$12.35", "$123.5", "$1.2k"; under $0.0005, "<$.001" (never "$0.000").
 */
export function compactUsd(usd: number | null | undefined, decimals = usdDecimals(usd)): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return '-';
  if (usd === 0) return '$0';
  if (usd < 0.0005) return '<$.001';
  if (usd >= 999.95) return `$${(usd / 1000).toFixed(1)}k`;
  for (let places = decimals; places > 0; places--) {
    const text = formatUsd(usd, places);
    if (text.length <= USD_WIDTH) return text;
  }
  return formatUsd(usd, 0);
}

/** Elapsed time as a clock: "0:07", "12:34", "1:02:03". */
export function clockDuration(ms: number): string {
  const total = Math.max(0, Math.floor((Number.isFinite(ms) ? ms : 0) / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}
