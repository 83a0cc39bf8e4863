// The checks a rollout makes before any traffic, run as well by `validate` and `rollout --dry-run` so that a plan
// they pass is one the rollout accepts. Errors throw (PlanError, TrafficError: exit 2); the rest are warnings.
import { ARMS, type Plan } from '../plan/plan.js';
import { missingKeyText, readApiKey } from '../upstream/index.js';
import { sendsNothingUpstream } from '../live/upstream-free.js';
import { formatWarning, planWarnings } from '../plan/warnings.js';
import { checkSampledFile, sampledShareOf, skippedLinesWarning } from '../traffic/index.js';

export async function checkBeforeTraffic(plan: Plan): Promise<string[]> {
  const sampled = plan.traffic.sampled;
  if (!sampled || sampledShareOf(plan.traffic) <= 0) return planWarnings(plan).map(formatWarning);
  const check = await checkSampledFile(sampled.file, plan.traffic.max_tokens);
  // The lines' sticky keys widen the spread of each arm's count (src/plan/judging-odds.ts).
  const warnings = planWarnings(plan, { sampledKeyCollision: check.keyCollision }).map(formatWarning);
  const skipped = skippedLinesWarning(sampled.file, check.skipped, check.firstProblem);
  if (skipped) warnings.push(skipped);
  return warnings;
}

/** `validate` without --check-upstream: a key variable that is not set would stop the rollout at preflight. */
export function missingKeyWarnings(plan: Plan, env: NodeJS.ProcessEnv, cwd: string): string[] {
  if (sendsNothingUpstream(plan)) return [];
  const names = new Set(ARMS.map((arm) => plan.arms[arm].upstream.apiKeyEnv).filter((name): name is string => name !== undefined));
  return [...names]
    .filter((name) => readApiKey(name, env, cwd) === undefined)
    .map((name) => `${missingKeyText(name, env, cwd)}: the rollout would stop at preflight (exit 3)`);
}

/** `validate` on a live plan: without the admin token a rollout cannot drive the proxies and stops at start. */
export function missingAdminTokenWarnings(plan: Plan, env: NodeJS.ProcessEnv): string[] {
  const name = plan.proxy?.admin?.token_env;
  if (name === undefined || env[name]) return [];
  return [`${name} (proxy.admin.token_env) is not set: a rollout of this plan could not drive its proxies and would stop at start (exit 2)`];
}
