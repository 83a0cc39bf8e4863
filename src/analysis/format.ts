// How figures read in breach messages: rates as percentages, latencies in ms or s, ratios as factors.
import type { RateEvidence, Unit } from './types.js';

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

/** 0.9995 -> "99.95%": rounded down, so the level shown is never more than the one held. */
export function formatConfidence(confidence: number): string {
  return `${Number((Math.floor(confidence * 10000 + 1e-6) / 100).toFixed(2))}%`;
}

/** "(99.95% interval 5.6–14.2%)": the judged rate's anytime-valid interval. */
export function formatInterval(evidence: RateEvidence): string {
  return `(${formatConfidence(evidence.confidence)} interval ${formatRange(evidence)})`;
}

/** "5.6–14.2%" for a rate, "-1.2 to +3.4 points" for a comparison (its limit is a difference). */
export function formatRange(evidence: Pick<RateEvidence, 'lower' | 'upper'>, difference = false): string {
  if (difference) return `${formatPoints(evidence.lower)} to ${formatPoints(evidence.upper)} points`;
  return `${formatPercent(evidence.lower).replace('%', '')}–${formatPercent(evidence.upper)}`;
}

/**
 * A check's evidence in a few words, for reports and screens: "(99.93% interval 0.80–9.1%)"; latency rules
 * say which share they judge: "1.2% over 3.00s (99.93% interval 0.10–4.0%)"; comparisons are in points.
 */
export function describeEvidence(evidence: RateEvidence, difference: boolean): string {
  const interval = `(${formatConfidence(evidence.confidence)} interval ${formatRange(evidence, difference)})`;
  if (evidence.overMs !== undefined && evidence.overMs !== null) return `${formatPercent(evidence.estimate)} over ${formatMs(evidence.overMs)} ${interval}`;
  return interval;
}
