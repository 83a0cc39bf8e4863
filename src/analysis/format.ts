// How a check's evidence reads (the plain number formats are core/format.ts): confidence levels and bounds.
// Each check's lower and upper bounds are one-sided, each holding with the check's confidence c (sequential.ts):
// together they are only a (2c - 1) interval, so they are never called a "c interval"; each is "c sure".
import { formatFactor, formatMs, formatPercent, formatPoints, pointsDecimals } from '../core/format.js';
import { HIGHEST_MS } from '../metrics/buckets.js';
import type { LatencyBounds, RateEvidence } from './types.js';

/**
 * 0.9995 -> "99.95%": rounded down, so the level shown is never more than the one held, with the decimals a
 * very high level needs (0.99999995 -> "99.999995%", not "99.99%").
 */
export function formatConfidence(confidence: number): string {
  const decimals = decimalsFor((1 - confidence) * 100);
  const scale = 10 ** decimals;
  return `${trimZeros((Math.floor(confidence * 100 * scale + 1e-6) / scale).toFixed(decimals))}%`;
}

/** A share that is an upper bound ("at most 0.00001% false rollbacks"): rounded up, never shown as 0%. */
export function formatAtMost(share: number): string {
  const percent = share * 100;
  if (!(percent > 0)) return '0%';
  const decimals = decimalsFor(percent);
  const scale = 10 ** decimals;
  return `${trimZeros((Math.ceil(percent * scale - 1e-6) / scale).toFixed(decimals))}%`;
}

/** "99.50" -> "99.5", "1.00" -> "1" (toFixed, unlike String(number), never turns to "1e-8"). */
function trimZeros(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** At least 2 decimals, and enough to show the first significant digit of a small percentage (up to 8). */
function decimalsFor(percent: number): number {
  return percent > 0 ? Math.min(8, Math.max(2, Math.ceil(-Math.log10(percent)))) : 2;
}

/** "99% sure": how sure each bound of a check is. */
export function formatSure(confidence: number): string {
  return `${formatConfidence(confidence)} sure`;
}

/**
 * "(at least 10.3%, 99% sure)": a breach's evidence, the judged rate's anytime-valid lower bound (a comparison's
 * in points through `show`), the bound that decided it.
 */
export function formatAtLeast(evidence: Pick<RateEvidence, 'lower' | 'confidence'>, show: (value: number) => string = formatPercent): string {
  return `(at least ${show(evidence.lower)}, ${formatSure(evidence.confidence)})`;
}

/** Past this, a ratio's upper bound says only that blue's p95 has no lower bound yet. */
const FACTOR_SHOWN_UP_TO = 1000;

/**
 * "5.6–14.2%" for a rate, "-1.2 to +3.4 points" for a comparison (its limit is a difference; `pointsUnit` "pt" in
 * the dashboard's narrow lines; `decimals` those of the figure and limit shown with it), "1.80–3.10x" for the p95
 * ratio to blue ("≥ 1.80x" while it has no upper bound).
 */
export function formatRange(
  evidence: Pick<RateEvidence, 'lower' | 'upper' | 'quantiles'>,
  difference = false,
  pointsUnit = ' points',
  decimals = pointsDecimals(evidence.lower, evidence.upper),
): string {
  if (evidence.quantiles) {
    if (!(evidence.upper <= FACTOR_SHOWN_UP_TO)) return `≥ ${formatFactor(evidence.lower)}`;
    return `${formatFactor(evidence.lower).replace('x', '')}–${formatFactor(evidence.upper)}`;
  }
  if (difference) return `${formatPoints(evidence.lower, decimals)} to ${formatPoints(evidence.upper, decimals)}${pointsUnit}`;
  return `${formatPercent(evidence.lower).replace('%', '')}–${formatPercent(evidence.upper)}`;
}

/**
 * A check's evidence in a few words, for reports and screens: "(bounds 0.80–9.1%, each 99.93% sure)"; latency rules
 * say which share they judge: "1.2% over 3.00s (bounds 0.10–4.0%, each 99.93% sure)"; comparisons are in points;
 * the p95 ratio gives both arms' p95: "(bounds 1.80–3.10x, each 99.93% sure; green p95 1.84s in 1.61–2.02s, blue
 * 610ms in 520–700ms)".
 */
export function describeEvidence(evidence: RateEvidence, difference: boolean, decimals?: number): string {
  const q = evidence.quantiles;
  if (q) {
    const arm = (b: LatencyBounds) => `${formatMs(b.estimate)} in ${formatLatencyRange(b)}`;
    return `(bounds ${formatRange(evidence)}, each ${formatSure(evidence.confidence)}; green p95 ${arm(q.green)}, blue ${arm(q.blue)})`;
  }
  const interval = `(bounds ${formatRange(evidence, difference, undefined, decimals)}, each ${formatSure(evidence.confidence)})`;
  if (evidence.overMs !== undefined && evidence.overMs !== null) return `${formatPercent(evidence.estimate)} over ${formatMs(evidence.overMs)} ${interval}`;
  return interval;
}

/** "1.61–2.02s" style bounds of a latency percentile: "351ms–2.02s", or "≥ 351ms" while it has no upper bound yet. */
export function formatLatencyRange(bounds: Pick<LatencyBounds, 'lower' | 'upper'>): string {
  if (bounds.upper >= HIGHEST_MS) return `≥ ${formatMs(bounds.lower)}`;
  return `${formatMs(bounds.lower)}–${formatMs(bounds.upper)}`;
}
