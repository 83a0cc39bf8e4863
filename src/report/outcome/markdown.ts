// The Markdown summary appended to $GITHUB_STEP_SUMMARY: outcome, per-stage table, cost comparison.
import { appendInPlace, type PipeWaits } from './pipe-target.js';
import { describeEvidence } from '../../analysis/format.js';
import { formatCount, formatDuration, formatMs, formatPercent, formatUsd, formatWeight, usdDecimals } from '../../core/format.js';
import { comparisonDecimals, isRateDifference } from '../check-value.js';
import { checkValue, costVerdict, statusWord } from './figures.js';
import type { ArmReport, RolloutReport, StageReport } from './report-schema.js';
import { ReportWriteError } from './write-errors.js';
import { describeFsError } from '../../core/errors.js';

export function renderMarkdownSummary(report: RolloutReport): string {
  const { plan, outcome, timings } = report;
  const lines: string[] = [];
  lines.push(`## bluegreen: ${statusWord(report)}`, '');
  lines.push(`**Plan** ${md(plan.name)} (sha256 \`${plan.hash.slice(0, 12)}\`): blue ${code(plan.blueModel)} to green ${code(plan.greenModel)}  `);
  // The heading names the phase: the outcome line adds the code and why, each said once.
  lines.push(`**Outcome** exit ${outcome.exitCode ?? '-'}: ${md(outcome.reason ?? outcome.meaning)}  `);
  lines.push(`**Duration** ${formatDuration(timings.durationMs)}, started ${timings.startedAt}`);

  lines.push('', '### Stages', '');
  lines.push(row(['Stage', 'Green', 'Verdict', 'Arm', 'Requests', 'Errors', 'Error rate', 'p95', 'Cost']));
  lines.push('|---:|---:|---|---|---:|---:|---:|---:|---:|');
  // The cost column's figures take one number of decimals (core/format.ts).
  const usd = usdDecimals(...report.stages.flatMap((stage) => [stage.arms.blue.costUsd, stage.arms.green.costUsd]));
  for (const stage of report.stages) {
    const head = [String(stage.number), formatWeight(stage.greenWeight), stage.verdict];
    if (stage.durationMs === null) {
      // Never started: one row, no zeros to misread as figures.
      lines.push(row([...head, 'not run', '', '', '', '', '']));
      continue;
    }
    lines.push(row([...head, 'blue', ...armCells(stage.arms.blue, usd)]));
    lines.push(row(['', '', '', 'green', ...armCells(stage.arms.green, usd)]));
  }

  const decisive = outcome.stageIndex !== null ? report.stages[outcome.stageIndex] : undefined;
  if (decisive && decisive.checks.length > 0) lines.push('', ...checksTable(decisive));

  lines.push('', '### Cost', '');
  lines.push(row(['Arm', 'Model', 'Requests', 'Prompt tokens', 'Completion tokens', 'Cost', 'Per 1k requests']));
  lines.push('|---|---|---:|---:|---:|---:|---:|');
  const total = usdDecimals(report.cost.blue.costUsd, report.cost.green.costUsd);
  const per1k = usdDecimals(report.cost.blue.usdPer1kRequests, report.cost.green.usdPer1kRequests);
  for (const arm of ['blue', 'green'] as const) {
    const totals = report.totals[arm];
    const cost = report.cost[arm];
    lines.push(
      row([
        arm,
        code(arm === 'blue' ? plan.blueModel : plan.greenModel),
        formatCount(totals.requests),
        formatCount(totals.tokens.prompt),
        formatCount(totals.tokens.completion),
        cost.priced ? formatUsd(cost.costUsd, total) : 'no price',
        formatUsd(cost.usdPer1kRequests, per1k),
      ]),
    );
  }
  const verdict = costVerdict(report.cost.greenVsBlue);
  lines.push('', verdict ? `Per 1k requests, green is ${verdict}.` : 'No cost comparison: an arm has no price in the plan or no requests.');
  return `${lines.join('\n')}\n`;
}

function checksTable(stage: StageReport): string[] {
  const lines = [`### Checks in stage ${stage.number}`, '', row(['Rule', 'Status', 'Figure', 'Limit', 'Bounds', 'Sample']), '|---|---|---:|---:|---|---:|'];
  // One set of decimals for the stage's comparisons, as the dashboard and status show them.
  const shared = comparisonDecimals(stage.checks);
  for (const check of stage.checks) {
    const decimals = isRateDifference(check) ? shared : undefined;
    const interval = check.interval
      ? describeEvidence({ ...check.interval, overMs: check.interval.overMs ?? undefined }, isRateDifference(check), decimals)
      : '-';
    lines.push(
      row([
        code(check.rule),
        check.status === 'breach' ? '**breach**' : check.status,
        checkValue(check, check.figure, decimals),
        checkValue(check, check.limit, decimals),
        interval,
        String(check.sample),
      ]),
    );
  }
  return lines;
}

function armCells(arm: ArmReport, usd: number): string[] {
  return [formatCount(arm.requests), formatCount(arm.failures), formatPercent(arm.errorRate), formatMs(arm.latency.p95), formatUsd(arm.costUsd, usd)];
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/**
 * Escapes text from the plan or a reason so it renders literally: no accidental emphasis, links or HTML,
 * and no `|` breaking a table or newline breaking a line.
 */
export function md(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>|#~]/g, (ch) => `\\${ch}`);
}

/** A code span for names (models, rules): literal without backslashes; text with a backtick is escaped instead. */
export function code(text: string): string {
  return /[`\r\n|]/.test(text) ? md(text) : `\`${text}\``;
}

/**
 * Appends the summary to the file GitHub Actions names in $GITHUB_STEP_SUMMARY. Returns false (and writes
 * nothing) when the variable is unset; throws ReportWriteError with a sentence when the file cannot be written.
 */
export function appendStepSummary(env: NodeJS.ProcessEnv, markdown: string, waits?: PipeWaits): boolean {
  const file = env.GITHUB_STEP_SUMMARY;
  if (file === undefined || file.trim() === '') return false;
  try {
    // A leading blank line keeps our heading from joining a previous writer's last line.
    appendInPlace(file, `\n${markdown.endsWith('\n') ? markdown : `${markdown}\n`}`, waits);
  } catch (error) {
    throw new ReportWriteError([`cannot append the summary to $GITHUB_STEP_SUMMARY (${file}): ${describeFsError(error, file)}`]);
  }
  return true;
}
