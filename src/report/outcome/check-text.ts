// One sentence per threshold check, for any status: the JUnit failure message, the Markdown table, the JSON.
// Breaches read like the engine's messages (minus "in stage N", which the test case name already says).
import { describeEvidence } from '../../analysis/format.js';
import type { RateEvidence } from '../../analysis/types.js';
import { formatFigure, formatPoints } from '../../core/format.js';
import { checkDecimals, isRateDifference } from '../check-value.js';
import type { CheckResult } from '../../analysis/types.js';

/** What a check needs to be described; `minRequests` is the plan's analysis.min_requests. */
export interface CheckTextInput {
  check: Pick<CheckResult, 'rule' | 'figure' | 'limit' | 'unit' | 'sample'> & {
    status: CheckResult['status'] | 'not_run';
    blueSample?: number | null;
    interval?: (Omit<RateEvidence, 'overMs'> & { overMs?: number | null }) | null;
  };
  minRequests: number;
}

/** Rules judged at the limit itself (>=); every other rule only beyond it (>), as the analysis does. */
const INCLUSIVE = new Set(['consecutive_errors', 'health_check']);

export function describeCheck({ check, minRequests }: CheckTextInput): string {
  const { status, figure } = check;
  const subject = SUBJECTS[check.rule] ?? `green ${check.rule}`;
  if (status === 'not_run') return `${subject} not judged: the stage did not run`;
  if (status === 'waiting' || figure === null) return `${subject} not judged: ${waitingReason(check, Math.max(1, minRequests))}`;
  const decimals = checkDecimals(check, figure, check.limit, check.interval);
  const text = judgedText(check, subject, figure, decimals);
  if (!check.interval) return text;
  const evidence = describeEvidence({ ...check.interval, overMs: check.interval.overMs ?? undefined }, isRateDifference(check), decimals);
  // A latency rule's evidence is about a share ("2.0% over 5.00s (...)"): a clause of its own.
  return `${text}${check.interval.overMs != null ? ';' : ''} ${evidence}${status === 'undecided' ? ': undecided' : ''}`;
}

function judgedText(check: CheckTextInput['check'], subject: string, figure: number, decimals: number | undefined): string {
  const { rule, status, limit, unit, sample } = check;
  const breached = status === 'breach';
  const inclusive = INCLUSIVE.has(rule);
  // Undecided: the point estimate may sit either side of the limit while its bounds straddle it.
  const op = breached ? (inclusive ? '>=' : '>') : status === 'undecided' ? 'vs' : inclusive ? '<' : '<=';
  const both = `(green ${sample}, blue ${check.blueSample ?? 0} requests)`;
  switch (rule) {
    case 'compare_to_blue.max_error_rate_increase':
    case 'guard.green_fails_more_than_blue':
      return `green error rate vs blue ${formatPoints(figure, decimals)} points ${op} ${formatPoints(limit, decimals)} allowed ${both}`;
    case 'compare_to_blue.max_quality_fail_rate_increase':
      return `green quality failure rate vs blue ${formatPoints(figure, decimals)} points ${op} ${formatPoints(limit, decimals)} allowed ${both}`;
    case 'compare_to_blue.max_latency_p95_ratio':
      return `green latency_p95 vs blue ${formatFigure(figure, unit)} ${op} ${formatFigure(limit, unit)} allowed ${both}`;
    case 'consecutive_errors':
      return `${subject} ${figure} ${op} ${limit} (failures in a row)`;
    case 'health_check':
      return `${subject} ${figure} failures in a row ${op} ${limit}`;
    default:
      return `${subject} ${formatFigure(figure, unit)} ${op} ${formatFigure(limit, unit)} over ${sample} ${SAMPLE_NOUNS[rule] ?? 'requests'}`;
  }
}

const SUBJECTS: Partial<Record<string, string>> = {
  health_check: 'green health check',
  hook: 'on_stage hook',
};

const SAMPLE_NOUNS: Partial<Record<string, string>> = {
  quality_fail_rate: 'successful responses',
  ttft_p95: 'streamed requests',
};

function waitingReason(check: CheckTextInput['check'], needed: number): string {
  if (check.rule.startsWith('compare_to_blue.') || check.rule.startsWith('guard.')) {
    return `green ${check.sample}, blue ${check.blueSample ?? 0} requests, ${needed} each needed`;
  }
  if (check.figure === null && check.sample >= needed) return `no figure yet over ${check.sample} ${SAMPLE_NOUNS[check.rule] ?? 'requests'}`;
  return `${check.sample} ${SAMPLE_NOUNS[check.rule] ?? 'requests'}, ${needed} needed`;
}
