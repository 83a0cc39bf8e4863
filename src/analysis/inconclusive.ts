// What a stage does when its time is up and a sequential rule is still undecided (its lower bound at or under the
// limit, its upper bound over it): the plan's analysis.on_inconclusive, as a pure decision the engine carries out.
import type { AnalysisConfig } from '../plan/schema.js';
import type { CheckResult, RuleName } from './types.js';

export type StageEndDecision =
  { action: 'pass'; undecided: RuleName[] } | { action: 'extend'; undecided: RuleName[]; extension: number } | { action: 'pause'; undecided: RuleName[] };

/**
 * @param extensionsSoFar how many times this stage was already extended (or paused for an operator)
 * Rules below the min_requests floor ("waiting") count as undecided too: nothing was shown either way.
 */
export function decideStageEnd(
  checks: readonly CheckResult[],
  config: Pick<AnalysisConfig, 'on_inconclusive' | 'max_extensions'>,
  extensionsSoFar: number,
): StageEndDecision {
  const undecided = checks.filter((check) => check.status === 'undecided' || (check.status === 'waiting' && isSequential(check))).map((check) => check.rule);
  if (undecided.filter((rule) => !judgedGuard(checks, rule)).length === 0) return { action: 'pass', undecided };
  switch (config.on_inconclusive) {
    case 'extend':
      return extensionsSoFar < config.max_extensions ? { action: 'extend', undecided, extension: extensionsSoFar + 1 } : { action: 'pass', undecided };
    case 'pause':
      // Once per stage: after the operator resumes, the stage runs once more and then passes.
      return extensionsSoFar === 0 ? { action: 'pause', undecided } : { action: 'pass', undecided };
    default:
      return { action: 'pass', undecided };
  }
}

/**
 * The built-in guard (margin 0) is "ok" only once green is shown to fail less than blue, so a green as good as
 * blue leaves it undecided however long the stage runs: once judged, it never holds a stage (extend or pause).
 */
function judgedGuard(checks: readonly CheckResult[], rule: RuleName): boolean {
  return rule === 'guard.green_fails_more_than_blue' && checks.some((check) => check.rule === rule && check.status === 'undecided');
}

/** Every rule but the streaks (consecutive_errors, health_check, in counts): the p95 ratio (a factor) included. */
function isSequential(check: CheckResult): boolean {
  return check.unit !== 'count';
}
