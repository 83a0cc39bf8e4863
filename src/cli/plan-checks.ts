// The checks a rollout makes before any traffic, run as well by `validate` and `rollout --dry-run` so that a plan
// they pass is one the rollout accepts. Errors throw (PlanError, TrafficError: exit 2); the rest are warnings.
import type { Plan } from '../plan/plan.js';
import { formatWarning, planWarnings } from '../plan/warnings.js';
import { checkSampledFile, sampledShareOf, skippedLinesWarning } from '../traffic/index.js';

export async function checkBeforeTraffic(plan: Plan): Promise<string[]> {
  const warnings = planWarnings(plan).map(formatWarning);
  const sampled = plan.traffic.sampled;
  if (sampled && sampledShareOf(plan.traffic) > 0) {
    const check = await checkSampledFile(sampled.file, plan.traffic.max_tokens);
    const skipped = skippedLinesWarning(sampled.file, check.skipped, check.firstProblem);
    if (skipped) warnings.push(skipped);
  }
  return warnings;
}
