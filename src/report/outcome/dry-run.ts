// `bluegreen rollout --dry-run`: what the rollout would do, printed before (instead of) sending any traffic.
import { describeJudgement } from '../../analysis/describe.js';
import { formatCount, formatDuration, formatPercent, formatUsd, formatWeight } from '../../core/format.js';
import type { ArmName, Plan, UpstreamConfig } from '../../plan/plan.js';
import { costPer1k, mirroredTotalText, pricedUsd, rateBasisText, requestCostText, requestsToJudgeText, type PlanSummary } from '../../plan/summary.js';
import { costVerdict } from './figures.js';

export function renderSchedule(summary: PlanSummary, plan: Plan): string {
  const lines: string[] = [];
  lines.push(`dry run of plan ${summary.name} (sha256 ${plan.source.hash.slice(0, 12)})`);
  for (const arm of ['blue', 'green'] as const) lines.push(`  ${armLine(plan, arm)}`);
  lines.push(`  ${trafficLine(summary, plan)}`);
  lines.push('');

  // A live plan's stages are judged on the application's requests: say how many each stage needs.
  const live = summary.traffic.basis !== 'generated';
  const mirrors = summary.mirrored !== null && summary.mirrored > 0;
  const header = [
    'stage',
    'green',
    'duration',
    'from',
    'to',
    ...(summary.requests ? ['requests blue/green'] : []),
    ...(mirrors ? ['mirrored to green'] : []),
    ...(live ? [`green reaches min_requests (${summary.minRequests}) after`] : []),
  ];
  const rows = [header];
  let at = 0;
  for (const stage of summary.stages) {
    rows.push([
      `${stage.index + 1}${stage.name ? ` ${stage.name}` : ''}`,
      formatWeight(stage.greenWeight),
      formatDuration(stage.durationMs),
      at === 0 ? '0s' : formatDuration(at),
      formatDuration(at + stage.durationMs),
      ...(stage.requests ? [`${formatCount(stage.requests.blue)}/${formatCount(stage.requests.green)}`] : []),
      ...(mirrors ? [formatCount(stage.mirrored ?? 0)] : []),
      ...(live ? [requestsToJudgeText(stage)] : []),
    ]);
    at += stage.durationMs;
  }
  lines.push(...table(rows));
  lines.push('');

  const { prompt, completion } = summary.assumedTokens;
  const assuming = `(assuming ~${prompt} prompt and ~${completion} completion tokens a request)`;
  if (summary.requests) {
    lines.push(
      `  total ${formatDuration(summary.totalDurationMs)} if every stage passes: ${formatCount(summary.requests.blue)} blue and ${formatCount(summary.requests.green)} green requests${mirroredTotalText(summary)}`,
    );
    const { blue, green } = summary.costUsd;
    const all = blue !== null && green !== null ? `, ${formatUsd(blue + green)} in all` : '';
    lines.push(`  estimated cost: blue ${pricedUsd(blue)}, green ${pricedUsd(green)}${all} ${assuming}`);
    const bluePer1k = costPer1k(summary, 'blue');
    const greenPer1k = costPer1k(summary, 'green');
    if (bluePer1k !== null && greenPer1k !== null) {
      const verdict = bluePer1k > 0 ? costVerdict(greenPer1k / bluePer1k - 1) : undefined;
      lines.push(`  estimated cost per 1k requests: blue ${formatUsd(bluePer1k)}, green ${formatUsd(greenPer1k)}${verdict ? ` (green ${verdict})` : ''}`);
    }
  } else {
    lines.push(`  total ${formatDuration(summary.totalDurationMs)} if every stage passes`);
    lines.push(`  ${requestCostText(summary)} ${assuming}`);
  }
  lines.push(`  ${analysisLine(plan)}`);
  if (plan.health_check) {
    lines.push(
      `  health check of green every ${formatDuration(plan.health_check.interval)}; ${plan.health_check.failures_to_rollback} failures in a row roll back`,
    );
  }
  lines.push('  a breach moves all traffic back to blue at once (exit 10)');
  lines.push('  no traffic sent (dry run)');
  return `${lines.join('\n')}\n`;
}

/** What traffic the rollout judges: the rate it sends, or the application's through the proxies. */
function trafficLine(summary: PlanSummary, plan: Plan): string {
  const { traffic } = plan;
  const generated = `${traffic.rate} requests/s, ${formatPercent(traffic.stream, 0)} streamed, at most ${formatCount(traffic.max_in_flight)} in flight`;
  if (summary.traffic.basis === 'generated')
    return `traffic: ${generated}${plan.proxy?.admin ? ", generated on top of the application's through the proxies" : ''}`;
  return `traffic: ${(rateBasisText(summary) ?? '').replace(/^requests: /, '')}`;
}

function armLine(plan: Plan, arm: ArmName): string {
  const { model, price, upstream } = plan.arms[arm];
  const cost = price ? `, $${price.input_per_mtok.toFixed(2)} / $${price.output_per_mtok.toFixed(2)} per Mtok in/out` : ', no price';
  return `${arm.padEnd(5)} ${model} via ${where(upstream)}${cost}`;
}

/** Where requests go, without anything secret: a URL's user, password and query are left out. */
function where(upstream: UpstreamConfig): string {
  if (upstream.simulate) return `the simulated upstream (${upstream.api})`;
  let url = upstream.baseUrl ?? '?';
  try {
    const parsed = new URL(url);
    url = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    // Validated as a URL by the plan schema; keep the text if that ever changes.
  }
  return `${url} (${upstream.api}${upstream.apiKeyEnv ? `, key from $${upstream.apiKeyEnv}` : ''})`;
}

function analysisLine(plan: Plan): string {
  return describeJudgement(plan.analysis, plan.stages.length);
}

/** Right-aligned columns, two-space indent, first column left-aligned. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return rows.map((r) => `  ${r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ')}`.trimEnd());
}
