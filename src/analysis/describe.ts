// One line saying how a plan's rollout will be judged: for `validate` and `rollout --dry-run`.
import type { AnalysisConfig } from '../plan/schema.js';
import { checkAlpha, needsGuard, sequentialRules } from './budget.js';
import { formatFigure } from '../core/format.js';
import { formatAtMost, formatSure } from './format.js';

export function describeJudgement(config: AnalysisConfig, stageCount: number): string {
  const t = config.thresholds;
  const compare = config.compare_to_blue;
  const rules: string[] = [];
  if (t.error_rate !== undefined) rules.push(`error_rate > ${formatFigure(t.error_rate, 'ratio')}`);
  if (t.consecutive_errors !== undefined) rules.push(`consecutive_errors >= ${t.consecutive_errors} (at once)`);
  if (t.latency_p95 !== undefined) rules.push(`latency_p95 > ${formatFigure(t.latency_p95, 'ms')}`);
  if (t.latency_p99 !== undefined) rules.push(`latency_p99 > ${formatFigure(t.latency_p99, 'ms')}`);
  if (t.ttft_p95 !== undefined) rules.push(`ttft_p95 > ${formatFigure(t.ttft_p95, 'ms')}`);
  if (t.quality_fail_rate !== undefined) rules.push(`quality_fail_rate > ${formatFigure(t.quality_fail_rate, 'ratio')}`);
  if (compare?.max_error_rate_increase !== undefined) rules.push(`error rate over blue's by > ${points(compare.max_error_rate_increase)} points`);
  if (compare?.max_quality_fail_rate_increase !== undefined)
    rules.push(`quality failures over blue's by > ${points(compare.max_quality_fail_rate_increase)} points`);
  if (compare?.max_latency_p95_ratio !== undefined) rules.push(`latency_p95 > ${formatFigure(compare.max_latency_p95_ratio, 'factor')} blue's`);
  if (needsGuard(config)) rules.push("green's error rate above blue's by any margin (the built-in guard, as no error-rate rule is set)");
  const checks = sequentialRules(config).length * Math.max(1, stageCount);
  const budget = `at most ${formatAtMost(1 - config.confidence)} false rollbacks (${checks} rule-stage check${checks === 1 ? '' : 's'}, each bound ${formatSure(1 - checkAlpha(config, stageCount))})`;
  return (
    `analysis every ${formatFigure(config.interval, 'ms')}, ${budget}, min_requests ${config.min_requests} per arm; ` +
    `rolls back when shown: ${rules.join(', ')}; undecided at a stage end: ${config.on_inconclusive}; ` +
    `nothing judged in any stage: ${config.on_unjudged === 'promote' ? 'promotes' : 'rolls back'}`
  );
}

function points(share: number): string {
  return (share * 100).toFixed(1);
}
