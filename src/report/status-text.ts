// `bluegreen status` as text: where the rollout stands, from state.json alone.
import { describeEvidence } from '../analysis/format.js';
import type { RolloutSnapshot } from '../engine/types.js';
import { formatDuration, formatMs, formatPercent, formatUsd } from '../core/format.js';
import { formatEventLine } from './line.js';
import { formatCheckValue, isRateDifference } from './check-value.js';

export interface OwnerInfo {
  alive: boolean;
  pid: number;
}

export function renderStatus(snapshot: RolloutSnapshot, owner: OwnerInfo, now: number, events = 8): string {
  const lines: string[] = [];
  const stageCount = snapshot.plan.stages.length;
  const finished = snapshot.endedAt !== undefined;
  lines.push(
    `rollout ${snapshot.plan.name}: ${snapshot.phase.replace('_', ' ')}${finished && snapshot.exitCode !== undefined ? ` (exit ${snapshot.exitCode})` : ''}`,
  );
  lines.push(`  ${snapshot.plan.blueModel} (blue) -> ${snapshot.plan.greenModel} (green)`);
  const stage = snapshot.plan.stages[snapshot.stageIndex];
  const left = stage ? Math.max(0, stage.durationMs - snapshot.stageElapsedMs) : 0;
  lines.push(
    `  stage ${snapshot.stageIndex + 1}/${stageCount}, green ${formatPercent(snapshot.greenWeight, 0)} / blue ${formatPercent(1 - snapshot.greenWeight, 0)}${finished ? '' : `, ${formatDuration(left)} left in stage`}`,
  );
  const elapsed = (snapshot.endedAt ?? now) - snapshot.startedAt;
  lines.push(`  started ${new Date(snapshot.startedAt).toISOString()}, ${finished ? 'ran' : 'running for'} ${formatDuration(elapsed)}`);
  if (!finished) {
    lines.push(
      owner.alive
        ? `  owner pid ${owner.pid} is running (last update ${formatDuration(now - snapshot.updatedAt)} ago)`
        : `  owner pid ${owner.pid} is gone: the rollout stopped without finishing (last update ${formatDuration(now - snapshot.updatedAt)} ago); check that traffic is on blue`,
    );
  }
  if (snapshot.reason) lines.push(`  reason: ${snapshot.reason}`);
  lines.push('');
  lines.push('  stage  green  verdict    arm    requests  errors  err rate     p95      cost');
  for (const s of snapshot.stages) {
    for (const arm of ['blue', 'green'] as const) {
      const a = s.arms[arm];
      const head =
        arm === 'blue'
          ? `  ${String(s.index + 1).padStart(5)}  ${formatPercent(s.greenWeight, 0).padStart(5)}  ${s.verdict.padEnd(9)}`
          : `  ${''.padStart(5)}  ${''.padStart(5)}  ${''.padEnd(9)}`;
      const rate = a.requests ? a.failures / a.requests : null;
      lines.push(
        `${head}  ${arm.padEnd(5)}  ${String(a.requests).padStart(8)}  ${String(a.failures).padStart(6)}  ${formatPercent(rate).padStart(8)}  ${formatMs(a.latency?.p95).padStart(7)}  ${formatUsd(a.costUsd).padStart(8)}`,
      );
    }
  }
  if (snapshot.checks.length) {
    lines.push('');
    lines.push('  checks (green, current stage):');
    for (const check of snapshot.checks) {
      const figure = formatCheckValue(check, check.figure);
      const limit = formatCheckValue(check, check.limit);
      const interval = check.evidence ? ` ${describeEvidence(check.evidence, isRateDifference(check))}` : '';
      lines.push(`    ${check.rule.padEnd(40)} ${figure.padStart(12)} / ${limit.padEnd(12)} ${check.status} (n=${check.sample})${interval}`);
    }
  }
  const recent = snapshot.recentEvents.slice(-events);
  if (recent.length) {
    lines.push('');
    lines.push('  recent events:');
    for (const event of recent) lines.push(`    ${formatEventLine(event)}`);
  }
  return `${lines.join('\n')}\n`;
}
