// How a check's evidence reads (the plain number formats are core/format.ts): confidence levels and intervals.
import { formatFactor, formatMs, formatPercent, formatPoints } from '../core/format.js';
import { HIGHEST_MS } from '../metrics/buckets.js';
import type { LatencyBounds, RateEvidence } from './types.js';

/** 0.9995 -> "99.95%": rounded down, so the level shown is never more than the one held. */
export function formatConfidence(confidence: number): string {
  return `${Number((Math.floor(confidence * 10000 + 1e-6) / 100).toFixed(2))}%`;
}

/** "(99.95% interval 5.6–14.2%)": the judged rate's anytime-valid interval. */
export function formatInterval(evidence: RateEvidence): string {
  return `(${formatConfidence(evidence.confidence)} interval ${formatRange(evidence)})`;
}

/** Past this, a ratio's upper bound says only that blue's p95 has no lower bound yet. */
const FACTOR_SHOWN_UP_TO = 1000;

/**
 * "5.6–14.2%" for a rate, "-1.2 to +3.4 points" for a comparison (its limit is a difference), "1.80–3.10x"
 * for the p95 ratio to blue ("≥ 1.80x" while it has no upper bound).
 */
export function formatRange(evidence: Pick<RateEvidence, 'lower' | 'upper' | 'quantiles'>, difference = false): string {
  if (evidence.quantiles) {
    if (!(evidence.upper <= FACTOR_SHOWN_UP_TO)) return `≥ ${formatFactor(evidence.lower)}`;
    return `${formatFactor(evidence.lower).replace('x', '')}–${formatFactor(evidence.upper)}`;
  }
  if (difference) return `${formatPoints(evidence.lower)} to ${formatPoints(evidence.upper)} points`;
  return `${formatPercent(evidence.lower).replace('%', '')}–${formatPercent(evidence.upper)}`;
}

/**
 * A check's evidence in a few words, for reports and screens: "(99.93% interval 0.80–9.1%)"; latency rules
 * say which share they judge: "1.2% over 3.00s (99.93% interval 0.10–4.0%)"; comparisons are in points; the
 * p95 ratio gives both arms' p95: "(99.93% interval 1.80–3.10x; green p95 1.84s in 1.61–2.02s, blue 610ms in 520–700ms)".
 */
export function describeEvidence(evidence: RateEvidence, difference: boolean): string {
  const q = evidence.quantiles;
  if (q) {
    const arm = (b: LatencyBounds) => `${formatMs(b.estimate)} in ${formatLatencyRange(b)}`;
    return `(${formatConfidence(evidence.confidence)} interval ${formatRange(evidence)}; green p95 ${arm(q.green)}, blue ${arm(q.blue)})`;
  }
  const interval = `(${formatConfidence(evidence.confidence)} interval ${formatRange(evidence, difference)})`;
  if (evidence.overMs !== undefined && evidence.overMs !== null) return `${formatPercent(evidence.estimate)} over ${formatMs(evidence.overMs)} ${interval}`;
  return interval;
}

/** "1.61–2.02s" style bounds of a latency percentile: "351ms–2.02s", or "≥ 351ms" while it has no upper bound yet. */
export function formatLatencyRange(bounds: Pick<LatencyBounds, 'lower' | 'upper'>): string {
  if (bounds.upper >= HIGHEST_MS) return `≥ ${formatMs(bounds.lower)}`;
  return `${formatMs(bounds.lower)}–${formatMs(bounds.upper)}`;
}
