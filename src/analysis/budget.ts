// The false-rollback budget: alpha = 1 - confidence for the whole rollout, split evenly (Bonferroni) across the
// sequential rules and across the stages, since each stage starts a fresh test of each rule: on its own figures
// (the comparisons with blue, the latency rules), or for error_rate and quality_fail_rate on green's from the
// stage's start to the rollout's end (since-stage.ts). Each check's interval then has confidence
// 1 - alpha / (rules x stages), and a green within all its limits is rolled back by them in at most alpha of
// rollouts, however often they are judged (union bound).
import type { AnalysisConfig } from '../plan/schema.js';
import type { RuleName } from './types.js';

/** Rules judged with a confidence sequence, in the order evaluate() lists them; each takes a share of alpha. */
export function sequentialRules(config: AnalysisConfig): RuleName[] {
  const t = config.thresholds;
  const c = config.compare_to_blue;
  const rules: RuleName[] = [];
  if (t.error_rate !== undefined) rules.push('error_rate');
  if (c?.max_error_rate_increase !== undefined) rules.push('compare_to_blue.max_error_rate_increase');
  if (needsGuard(config)) rules.push('guard.green_fails_more_than_blue');
  if (t.latency_p95 !== undefined) rules.push('latency_p95');
  if (t.latency_p99 !== undefined) rules.push('latency_p99');
  if (t.ttft_p95 !== undefined) rules.push('ttft_p95');
  if (c?.max_latency_p95_ratio !== undefined) rules.push('compare_to_blue.max_latency_p95_ratio');
  if (t.quality_fail_rate !== undefined) rules.push('quality_fail_rate');
  if (c?.max_quality_fail_rate_increase !== undefined) rules.push('compare_to_blue.max_quality_fail_rate_increase');
  return rules;
}

/**
 * A plan that judges no error rate (neither thresholds.error_rate nor compare_to_blue.max_error_rate_increase)
 * gets the built-in guard: green shown to fail more than blue. Without it a plan with only a latency or quality
 * rule promoted a green failing every request (its fast errors were under the latency limit, and quality is
 * judged on successes only); a consecutive_errors streak alone misses a green failing 15% at random.
 */
export function needsGuard(config: AnalysisConfig): boolean {
  return config.thresholds.error_rate === undefined && config.compare_to_blue?.max_error_rate_increase === undefined;
}

/** One check's share of alpha in one stage. */
export function checkAlpha(config: AnalysisConfig, stageCount: number): number {
  const rules = Math.max(1, sequentialRules(config).length);
  return (1 - config.confidence) / (rules * Math.max(1, stageCount));
}
