// Green's current figures against each threshold, the error-rate trend and the upstream's rate-limit headroom.
import { formatRange, formatSure } from '../../analysis/format.js';
import { exceeds } from '../../analysis/rules.js';
import { formatFigure } from '../../core/format.js';
import { checkDecimals, comparisonDecimals, formatCheckValue, isRateDifference, waitingCount } from '../check-value.js';
import type { CheckResult, RuleName } from '../../analysis/types.js';
import { FINAL_PHASES, type RolloutSnapshot } from '../../engine/types.js';
import type { RateLimitInfo } from '../../upstream/types.js';
import type { ArmName } from '../../plan/plan.js';
import { textWidth } from '../text-width.js';
import { LOST_LABEL, lostArms } from '../lost-text.js';
import { barCells, compactCount, fit, sparkline } from './cells.js';
import type { Tone } from './theme.js';
import { clip, type Line } from './view-types.js';

export const RULE_LABELS: Readonly<Record<RuleName, string>> = {
  error_rate: 'error rate',
  consecutive_errors: 'errors in a row',
  latency_p95: 'p95 latency',
  latency_p99: 'p99 latency',
  ttft_p95: 'p95 first token',
  quality_fail_rate: 'quality failures',
  'compare_to_blue.max_error_rate_increase': 'error rate vs blue',
  'compare_to_blue.max_latency_p95_ratio': 'p95 vs blue',
  'compare_to_blue.max_quality_fail_rate_increase': 'quality vs blue',
  'guard.green_fails_more_than_blue': 'errors vs blue',
  health_check: 'health check fails',
  hook: 'hook',
  proxy_unreachable: 'proxy silent',
  nothing_judged: 'nothing judged',
  still_running: 'still running',
};

const LABEL_WIDTH = 18;
/** The figure and limit columns at the least ("31.2% / 5.0%"); wider when a figure needs it (figureWidth). */
const MIN_FIGURE_WIDTH = 7;
const PROXIMITY_WIDTH = 10;
/** A figure at or past this share of its limit reads amber before it breaches. */
const NEAR_LIMIT = 0.8;
const TREND_MAX_WIDTH = 30;
const MIN_TREND_WIDTH = 8;

export function checkTone(check: CheckResult): Tone {
  if (check.status === 'breach') return 'bad';
  if (check.status === 'waiting') return 'muted';
  return (check.proximity ?? 0) >= NEAR_LIMIT ? 'warn' : 'ok';
}

export function checkStatusText(check: CheckResult): string {
  if (check.status === 'breach') return 'BREACH';
  if (check.status === 'waiting') return 'waiting';
  // Undecided past the limit (a comparison with few blue requests, say): "near?" would read as short of it.
  if (check.status === 'undecided')
    return check.figure !== null && exceeds(check.figure, check.limit) ? 'over?' : (check.proximity ?? 0) >= NEAR_LIMIT ? 'near?' : 'open';
  return (check.proximity ?? 0) >= NEAR_LIMIT ? 'near' : 'ok';
}

/**
 * "0.8–9.1%": the judged rate's lower and upper bounds ("1.2–4.0% over" for latency rules, whose rate is the share
 * over the limit; "-1.2 to +3.4pt" for comparisons). How sure each bound is, the same for every check, is said
 * once, in the title.
 */
export function checkInterval(check: CheckResult, decimals = checkDecimals(check, check.figure, check.limit, check.evidence)): string {
  const evidence = check.evidence;
  if (!evidence) return '';
  return `${formatRange(evidence, isRateDifference(check), 'pt', decimals)}${evidence.overMs !== undefined ? ' over' : ''}`;
}

/** The figure as the breach messages write it; a difference to blue is signed, in percentage points. */
export function checkFigure(check: CheckResult, value: number | null, decimals = checkDecimals(check, check.figure, check.limit, check.evidence)): string {
  return formatCheckValue(check, value, { short: true, decimals });
}

/** A comparison's decimals on the section's lines (CheckColumns.points, shared by all of them); else its own. */
function decimalsOn(check: CheckResult, points: number | undefined): number | undefined {
  return isRateDifference(check) && points !== undefined ? points : checkDecimals(check, check.figure, check.limit, check.evidence);
}

// Columns of a check line up to its status word, label and bar included, with figures of the least width
// (2 + 18 + 1 + 7 + 3 + 7 + 1 + 10 + 1 + 8).
const FULL_LINE_WIDTH = 58;
/** Under ~90 columns the bar narrows to this, so a comparison keeps its bounds ("-0.4 to +6.3pt") at 80. */
const MIN_PROXIMITY_WIDTH = 4;

/**
 * The width of the figure and limit columns for these checks: the widest either takes, 7 at the least. One for
 * all, so the status words line up; cut to 7, "+12.30pt" read "+12.30…" and "-100.00pt" "-100.0…".
 */
function figureWidth(checks: readonly CheckResult[], points: number | undefined): number {
  const shown = (check: CheckResult) => [check.figure, check.limit].map((value) => textWidth(checkFigure(check, value, decimalsOn(check, points))));
  return Math.max(MIN_FIGURE_WIDTH, ...checks.flatMap(shown));
}

/** A check section's columns, one set for all its lines so their status words line up. */
export interface CheckColumns {
  /** The figure and limit columns (figureWidth). */
  figure: number;
  /** The proximity bar's cells, 0 for none (proximityWidth). */
  bar: number;
  /** analysis.min_requests, when the snapshot says it: a waiting check's count. */
  minRequests?: number;
  /** The decimals every comparison's points take (comparisonDecimals), so its rows read alike. */
  points?: number;
}

/** The columns for these checks in `width` columns. */
export function checkColumns(checks: readonly CheckResult[], width: number, minRequests?: number): CheckColumns {
  const points = comparisonDecimals(checks);
  const columns = { figure: figureWidth(checks, points), ...(minRequests !== undefined && { minRequests }), ...(points !== undefined && { points }) };
  return { ...columns, bar: proximityWidth(checks, width, columns) };
}

/** The full line's width with figure columns of `figure` columns each. */
function fullLineWidth({ figure }: Pick<CheckColumns, 'figure'>): number {
  return FULL_LINE_WIDTH + 2 * (figure - MIN_FIGURE_WIDTH);
}

/**
 * The proximity bar's width for these checks: the widest (up to 10 cells) that leaves room for every check's
 * sample, and for the bounds of every check whose bounds can be shown at all; one for all, so their status
 * words line up. None when that leaves it under 4 cells, or in a terminal narrower than the full line: at 60
 * columns a 7-cell bar cut a comparison's "n=254/683" to "n=25…", which read as 25 requests.
 */
function proximityWidth(checks: readonly CheckResult[], width: number, columns: Omit<CheckColumns, 'bar'>): number {
  const full = fullLineWidth(columns);
  if (width < full) return 0;
  const room = width - (full - PROXIMITY_WIDTH);
  const samples = checks.map((check) => textWidth(tailText(check, columns.minRequests)));
  const tails = checks.map((check, i) => (samples[i] ?? 0) + textWidth(intervalText(check, columns.points)));
  const shown = tails.filter((tail) => room - tail >= MIN_PROXIMITY_WIDTH);
  const bar = Math.min(PROXIMITY_WIDTH, room - Math.max(0, ...samples, ...shown));
  return bar >= MIN_PROXIMITY_WIDTH ? bar : 0;
}

/**
 * One check as a line. In a terminal narrower than the full line the proximity bar goes first, then the label
 * shortens, so the status word (ok, BREACH) stays in sight. `columns`: the section's (checkColumns).
 */
export function checkLine(check: CheckResult, width = Infinity, columns = checkColumns([check], width)): Line {
  const { figure, bar: barWidth, minRequests } = columns;
  const tone = checkTone(check);
  const beyond = fullLineWidth(columns) - PROXIMITY_WIDTH - 1 - width;
  const labelWidth = Math.max(8, Math.min(LABEL_WIDTH, LABEL_WIDTH - beyond));
  const { full, empty } = barCells(check.proximity ?? 0, barWidth);
  const decimals = decimalsOn(check, columns.points);
  const limit = checkFigure(check, check.limit, decimals);
  const line: Line = [
    { text: `  ${fit(RULE_LABELS[check.rule], labelWidth)} ` },
    { text: fit(checkFigure(check, check.figure, decimals), figure, 'right'), tone: check.status === 'waiting' ? 'muted' : 'plain' },
    { text: ` / ${fit(limit, figure)}${barWidth > 0 ? ' ' : ''}`, tone: 'muted' },
    ...(barWidth > 0
      ? [
          { text: '█'.repeat(full), tone },
          { text: '·'.repeat(empty), tone: 'muted' as const },
        ]
      : []),
    { text: ` ${fit(checkStatusText(check), 8)}`, tone },
  ];
  // The count and the sample too are shown whole or not at all: "n=25…" read as 25 requests.
  const progress = progressText(check, minRequests);
  const counted = progress !== '' && lineWidth(line) + textWidth(progress) <= width;
  if (counted) line.push({ text: progress, tone });
  const sample = sampleText(check, minRequests);
  const spaced = counted && sample ? ` ${sample}` : sample;
  if (lineWidth(line) + textWidth(spaced) > width) return line;
  line.push({ text: spaced, tone: 'muted' });
  // Shown whole or not at all: cut short, "0.0–6.1% over" read as a percent ("0.0–6.1…"), and "-1.2 to +3…" misleads.
  const interval = intervalText(check, columns.points);
  if (interval && lineWidth(line) + textWidth(interval) <= width) line.push({ text: interval, tone: 'muted' });
  return line;
}

/**
 * After "waiting", its count towards min_requests where known, "(8/10)": it reads "waiting (8/10)", in the sample's
 * place rather than a status column widened for it, which took the samples of every other line at 60 columns.
 */
function progressText(check: CheckResult, minRequests: number | undefined): string {
  const count = waitingCount(check, minRequests);
  return count === undefined ? '' : `(${count}/${minRequests})`;
}

/** "n=60", "n=60/500" (green's/blue's); nothing when the waiting count says it ("(8/10)"), but for a comparison. */
function sampleText(check: CheckResult, minRequests: number | undefined): string {
  if (check.blueSample !== undefined) return `n=${check.sample}/${check.blueSample}`;
  return progressText(check, minRequests) ? '' : `n=${check.sample}`;
}

/** The progress and the sample, as the line puts them ("(4/10) n=30/4"). */
function tailText(check: CheckResult, minRequests: number | undefined): string {
  return [progressText(check, minRequests), sampleText(check, minRequests)].filter(Boolean).join(' ');
}

/** The interval after the sample, two spaces apart ("" when the check has none). */
function intervalText(check: CheckResult, points: number | undefined): string {
  const interval = checkInterval(check, decimalsOn(check, points));
  return interval ? `  ${interval}` : '';
}

function lineWidth(line: Line): number {
  return line.reduce((sum, segment) => sum + textWidth(segment.text), 0);
}

/** The limit that scales the trend: green's error-rate threshold when there is one. */
export function errorRateLimit(snapshot: RolloutSnapshot): number | undefined {
  return snapshot.checks.find((check) => check.rule === 'error_rate')?.limit;
}

export function checksTitle(snapshot: RolloutSnapshot, width: number): Line {
  const stageCount = snapshot.plan.stages.length;
  // Every check's bounds have the same confidence (the budget is split evenly): said here, once, so each line fits.
  // Each bound is one-sided (analysis/sequential.ts): "99.93% intervals" would claim more than the pair holds.
  const confidence = snapshot.checks.find((check) => check.evidence)?.evidence?.confidence;
  const title = `checks · green, stage ${snapshot.stageIndex + 1}/${stageCount}${confidence === undefined ? '' : ` · bounds ${formatSure(confidence)}`}`;
  const trend = snapshot.greenErrorTrend;
  if (trend.length === 0) return [{ text: title, tone: 'title' }];
  const last = trend.at(-1) ?? 0;
  // Each point is green's error rate over the last few seconds, not the stage's the error_rate row below judges:
  // labelled so, or a trend ending at 4.0% beside a row at 1.2% reads as a contradiction.
  // (A state.json written by hand may lack the window: `status --watch` draws it all the same.)
  const seconds = (snapshot.window as Partial<RolloutSnapshot['window']> | undefined)?.green?.seconds;
  const window = seconds === undefined ? 'recent' : `last ${seconds}s`;
  const value = ` ${formatFigure(last, 'ratio')}`;
  // At 80 columns the longer label leaves the sparkline too little room: "errors" says the same.
  const label = [`   error rate, ${window} `, `   errors, ${window} `].find((text) => trendRoom(width, title, text, value) >= MIN_TREND_WIDTH);
  if (label === undefined) return [{ text: title, tone: 'title' }];
  const limit = errorRateLimit(snapshot);
  const spark = sparkline(trend, limit ?? 0, Math.min(TREND_MAX_WIDTH, trendRoom(width, title, label, value)));
  const tone: Tone = limit !== undefined && last >= limit ? 'bad' : limit !== undefined && last >= limit / 2 ? 'warn' : 'green';
  return [
    { text: title, tone: 'title' },
    { text: label, tone: 'muted' },
    { text: spark, tone },
    { text: value, tone: 'muted' },
  ];
}

function trendRoom(width: number, ...texts: string[]): number {
  return texts.reduce((room, text) => room - textWidth(text), width);
}

/** The most recent rate-limit figures per arm, from the current stage back. */
export function latestRateLimits(snapshot: RolloutSnapshot): Partial<Record<ArmName, RateLimitInfo>> {
  const found: Partial<Record<ArmName, RateLimitInfo>> = {};
  for (const stage of snapshot.stages.slice(0, snapshot.stageIndex + 1).reverse()) {
    for (const arm of ['blue', 'green'] as const) {
      const info = stage.arms[arm].rateLimit;
      if (!found[arm] && info && (info.remainingRequests !== undefined || info.remainingTokens !== undefined)) found[arm] = info;
    }
  }
  return found;
}

const HEADROOM_LABEL = 'rate-limit headroom';

/**
 * Each arm's remaining requests and tokens: on one line, or, narrower than that (78 columns with two arms), one
 * line per arm, green's under blue's; at 60 columns the one line cut green's to "green 9,…". Empty when no arm
 * reported any.
 */
export function headroomLines(snapshot: RolloutSnapshot, width: number): Line[] {
  const limits = latestRateLimits(snapshot);
  const arms = (['blue', 'green'] as const).filter((arm) => limits[arm]);
  if (arms.length === 0) return [];
  const figures = (info: RateLimitInfo) =>
    [
      info.remainingRequests !== undefined ? `${compactCount(info.remainingRequests)} req` : undefined,
      info.remainingTokens !== undefined ? `${compactCount(info.remainingTokens)} tok` : undefined,
    ]
      .filter(Boolean)
      .join(' · ');
  const armAt = (arm: ArmName, pad: number): Line => [{ text: `   ${arm.padEnd(pad)} `, tone: arm }, { text: figures(limits[arm] ?? {}) }];
  const line: Line = [{ text: HEADROOM_LABEL, tone: 'muted' }, ...arms.flatMap((arm) => armAt(arm, 0))];
  if (arms.length === 1 || lineWidth(line) <= width) return [line];
  // One per line, the figures in a column under each other.
  const pad = Math.max(...arms.map((arm) => arm.length));
  return arms.map((arm, i) => [{ text: i === 0 ? HEADROOM_LABEL : ' '.repeat(HEADROOM_LABEL.length), tone: 'muted' as const }, ...armAt(arm, pad)]);
}

/**
 * The current stage's requests a dead run had in flight at its crash (rollout --resume), which its checks count as
 * outcomes unknown for good: "lost at a crash (never answered)  green 3 · blue 1". None when there are none.
 */
function lostLines(snapshot: RolloutSnapshot): Line[] {
  const arms = lostArms(snapshot.stages[snapshot.stageIndex]);
  if (arms.length === 0) return [];
  return [
    [
      { text: `  ${LOST_LABEL}`, tone: 'muted' },
      ...arms.flatMap(({ arm, count }, i): Line => [{ text: i === 0 ? '  ' : ' · ' }, { text: arm, tone: arm }, { text: ` ${count}` }]),
    ],
  ];
}

/**
 * Under the checks, when the stage's comparisons with blue judge against blue pooled over the stages so far (the
 * stage sends blue too few requests: snapshot.plan.stages[i].blueSoFar): said, or their blue count ("n=40/312") read
 * as this stage's blue, which the stage table shows at 0 (session 35's user test).
 */
export function pooledBlueLines(snapshot: RolloutSnapshot): Line[] {
  const stage = snapshot.stageIndex;
  if (snapshot.plan.stages[stage]?.blueSoFar !== true || !snapshot.checks.some((check) => check.blueSample !== undefined)) return [];
  return [[{ text: `  vs blue: blue of stages 1–${stage + 1} pooled (this stage sends blue too few requests)`, tone: 'muted' }]];
}

export function checkSectionLines(snapshot: RolloutSnapshot, width: number): Line[] {
  const lines: Line[] = [checksTitle(snapshot, width)];
  // An ended rollout waits for nothing: a re-run that found green promoted, or one stopped before its first judgement.
  const none = FINAL_PHASES.includes(snapshot.phase) ? '  no analysis ran before the rollout ended' : '  waiting for the first analysis';
  if (snapshot.checks.length === 0) lines.push([{ text: none, tone: 'muted' }]);
  const columns = checkColumns(snapshot.checks, width, snapshot.plan.minRequests);
  for (const check of snapshot.checks) lines.push(checkLine(check, width, columns));
  lines.push(...pooledBlueLines(snapshot), ...lostLines(snapshot), ...headroomLines(snapshot, width));
  return lines.map((line) => clip(line, width));
}

/** How many lines checkSectionLines will take, for the layout budget. */
export function checkSectionHeight(snapshot: RolloutSnapshot, width: number): number {
  return 1 + Math.max(1, snapshot.checks.length) + pooledBlueLines(snapshot).length + lostLines(snapshot).length + headroomLines(snapshot, width).length;
}
