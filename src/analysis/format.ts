// How figures read in breach messages: rates as percentages, latencies in ms or s, ratios as factors.
import type { Unit } from './types.js';

/** 0.312 -> "31.2%"; under 1% keeps two decimals so a 0.5% limit does not read as "0.5%" vs "1%". */
export function formatPercent(ratio: number): string {
  const percent = ratio * 100;
  const digits = percent !== 0 && Math.abs(percent) < 1 ? 2 : 1;
  return `${percent.toFixed(digits)}%`;
}

/** A difference of two rates in percentage points, signed: 0.07 -> "+7.0". */
export function formatPoints(diff: number): string {
  const points = diff * 100;
  const digits = points !== 0 && Math.abs(points) < 1 ? 2 : 1;
  return `${points >= 0 ? '+' : '-'}${Math.abs(points).toFixed(digits)}`;
}

/** 6200 -> "6.20s", 950 -> "950ms", 0.4 -> "0.4ms". */
export function formatMs(ms: number): string {
  // 999.6 would round to "1000ms": switch to seconds where the rounding would.
  if (ms >= 999.5) return `${(ms / 1000).toFixed(2)}s`;
  if (ms >= 10) return `${Math.round(ms)}ms`;
  return `${Number(ms.toFixed(1))}ms`;
}

export function formatFactor(factor: number): string {
  return `${factor.toFixed(2)}x`;
}

export function formatFigure(value: number, unit: Unit): string {
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
