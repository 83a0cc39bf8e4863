// How a check's figure and limit read on every surface (status, plain lines, dashboard, reports), so they agree:
// a comparison with blue is a difference of two rates, in signed percentage points, never a percentage.
import { formatFigure, formatPoints, pointsDecimals, type FigureUnit } from '../core/format.js';
import type { CheckResult } from '../analysis/types.js';

export interface CheckValueSubject {
  rule: string;
  unit: FigureUnit;
}

/** The blue comparisons of rates (and the built-in guard): their figure is green's rate minus blue's. */
export function isRateDifference(check: CheckValueSubject): boolean {
  return check.unit === 'ratio' && (check.rule.startsWith('compare_to_blue.') || check.rule.startsWith('guard.'));
}

/**
 * "+3.1 points" for a difference with blue, "4.2%", "950ms", "1.30x" or "3" otherwise; null reads "-".
 * `short` writes points as "pt", for the dashboard's narrow columns; `decimals` (checkDecimals) those of the
 * figures shown with it.
 */
export function formatCheckValue(check: CheckValueSubject, value: number | null | undefined, options: { short?: boolean; decimals?: number } = {}): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  if (isRateDifference(check)) return `${formatPoints(value, options.decimals)}${options.short ? 'pt' : ' points'}`;
  return formatFigure(value, check.unit);
}

/**
 * The decimals of a comparison's figure, limit and interval, read together: "+0.40 / +3.00 points", not
 * "+0.40 / +3.0" (undefined for other checks, whose figures keep their own).
 */
export function checkDecimals(
  check: CheckValueSubject,
  figure: number | null | undefined,
  limit: number,
  bounds?: { lower: number; upper: number } | null,
): number | undefined {
  return isRateDifference(check) ? pointsDecimals(figure, limit, bounds?.lower, bounds?.upper) : undefined;
}

/**
 * A waiting check's count towards analysis.min_requests (`minRequests`, the snapshot's): green's, or for a
 * comparison the smaller arm's, as both need it. Undefined when the count is not what it waits for (it has
 * reached it, with no figure yet) or not known (a state.json from before session 27).
 */
export function waitingCount(check: CheckResult, minRequests: number | undefined): number | undefined {
  if (check.status !== 'waiting' || minRequests === undefined) return undefined;
  const count = Math.min(check.sample, check.blueSample ?? check.sample);
  return count < minRequests ? count : undefined;
}

/**
 * One set of decimals for every comparison among `checks` (a stage's, as one section shows them): the most any of
 * them needs (checkDecimals). Each on its own, "error rate vs blue +0.0pt / +3.0pt" sat above "quality vs blue
 * -0.16pt / +5.00pt" (session 35's user test). Undefined when none is a comparison; other checks keep their own.
 */
export function comparisonDecimals(checks: readonly CheckSubjectWithFigures[]): number | undefined {
  const each = checks.filter(isRateDifference).map((check) => checkDecimals(check, check.figure, check.limit, bounds(check)) ?? 1);
  return each.length === 0 ? undefined : Math.max(...each);
}

/** A check as comparisonDecimals reads it: its figure, limit and bounds (`evidence` in a snapshot, `interval` in a report). */
type CheckSubjectWithFigures = CheckValueSubject & {
  figure: number | null;
  limit: number;
  evidence?: { lower: number; upper: number } | null;
  interval?: { lower: number; upper: number } | null;
};

function bounds(check: CheckSubjectWithFigures): { lower: number; upper: number } | null | undefined {
  return check.evidence ?? check.interval;
}
