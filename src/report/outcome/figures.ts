// Short texts shared by the JUnit and Markdown writers, so both describe a stage and an outcome alike.
import { formatDuration, formatMs, formatPercent, formatUsd, formatWeight } from '../../core/format.js';
import { formatCheckValue } from '../check-value.js';
import type { ArmReport, CheckReport, RolloutReport, StageReport } from './report-schema.js';

/** "stage 3 (50% green)", or "stage 3 canary (50% green)" when the stage has a name. */
export function stageTitle(stage: StageReport): string {
  return `stage ${stage.number}${stage.name ? ` ${stage.name}` : ''} (${formatWeight(stage.greenWeight)} green)`;
}

/** One line of an arm's figures: "green gpt-4.1: 38 requests, 3 failures (7.9%: server_error 3), ..." */
export function armLine(label: string, arm: ArmReport): string {
  const classes = Object.entries(arm.failuresByClass)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const parts = [
    `${arm.requests} requests`,
    `${arm.failures} failures (${formatPercent(arm.errorRate)}${classes ? `: ${classes}` : ''})`,
    `${arm.retries} retries`,
    `${arm.dropped} dropped`,
  ];
  if (arm.qualityFailures > 0) parts.push(`${arm.qualityFailures} quality failures`);
  if (arm.neutral) parts.push(`${arm.neutral} neutral (not judged)`);
  if (arm.latency.count > 0) parts.push(`latency p50 ${formatMs(arm.latency.p50)} p95 ${formatMs(arm.latency.p95)} p99 ${formatMs(arm.latency.p99)}`);
  if (arm.ttft.count > 0) parts.push(`ttft p95 ${formatMs(arm.ttft.p95)}`);
  parts.push(`tokens ${arm.tokens.prompt} in / ${arm.tokens.completion} out`, `cost ${formatUsd(arm.costUsd)}`);
  return `${label}: ${parts.join(', ')}`;
}

/** The figures of a stage, one arm a line, for JUnit bodies and system-out. */
export function stageFigures(report: RolloutReport, stage: StageReport): string {
  const ran = stage.durationMs !== null ? `ran ${formatDuration(stage.durationMs)} of ${formatDuration(stage.plannedDurationMs)}` : 'did not start';
  return [
    `${stageTitle(stage)}: ${stage.verdict}, ${ran}`,
    armLine(`blue ${report.plan.blueModel}`, stage.arms.blue),
    armLine(`green ${report.plan.greenModel}`, stage.arms.green),
  ].join('\n');
}

const STATUS_WORDS: Record<RolloutReport['outcome']['phase'], string> = {
  promoted: 'PROMOTED',
  rolled_back: 'ROLLED BACK',
  aborted: 'ABORTED',
  interrupted: 'INTERRUPTED',
  failed: 'FAILED',
  starting: 'IN PROGRESS',
  progressing: 'IN PROGRESS',
  paused: 'PAUSED',
};

/** One word (or two) for the outcome, no emoji: reads the same in a log, a summary and a screen reader. */
export function statusWord(report: RolloutReport): string {
  return STATUS_WORDS[report.outcome.phase];
}

/** Green's per-1k cost against blue's: "84.0% cheaper", "12.5% more expensive", "the same". */
export function costVerdict(greenVsBlue: number | null): string | undefined {
  if (greenVsBlue === null) return undefined;
  if (Math.abs(greenVsBlue) < 0.0005) return 'the same as blue';
  return `${formatPercent(Math.abs(greenVsBlue))} ${greenVsBlue < 0 ? 'cheaper' : 'more expensive'} than blue`;
}

/** A check's figure or limit as people read it; the blue comparison is a difference of rates, in points. */
export function checkValue(check: Pick<CheckReport, 'rule' | 'unit'>, value: number | null, decimals?: number): string {
  return formatCheckValue(check, value, { decimals });
}
