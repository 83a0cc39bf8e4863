// The proxies' admin token, from the variable the plan's proxy.admin.token_env names: a rollout drives its proxies
// with it, and a recovery tells them to serve blue with it. Small on purpose: a recovery checks it before it loads
// the live modules (recover.ts).
import { UsageError } from '../core/exit.js';
import type { Plan } from '../plan/plan.js';
import { proxyBlockOf } from '../plan/proxy-schema.js';

/** The proxies' admin token; a UsageError when its variable is unset or empty, or the plan has no proxy.admin. */
export function adminToken(plan: Plan, env: NodeJS.ProcessEnv): string {
  const admin = proxyBlockOf(plan).admin;
  if (!admin) throw new UsageError('proxy.admin is missing: a rollout drives the proxies through their admin API (proxy.admin.token_env names the token)');
  const token = env[admin.token_env];
  if (!token)
    throw new UsageError(
      `proxy.admin.token_env names ${admin.token_env}, which is not set (or empty): set it to the proxies' admin token (export ${admin.token_env}=..., as the proxies were started with)`,
    );
  return token;
}

/** A recovery refused for want of the operator's setting (the admin token): nothing was done; it can be run again with it. */
export function cannotTell(error: UsageError): UsageError {
  return new UsageError(`cannot tell the rollout's proxies to serve blue: ${error.message}; nothing was changed`);
}

/**
 * Refuses a live rollout's recovery without the proxies' admin token before it begins, nothing said nor done:
 * proxiesToBlue (restore.ts) refuses it too, but only after `bluegreen rollback` had said it was rolling back.
 */
export function refuseWithoutToken(plan: Plan, env: NodeJS.ProcessEnv): void {
  if (!plan.proxy?.admin) return;
  try {
    adminToken(plan, env);
  } catch (error) {
    throw error instanceof UsageError ? cannotTell(error) : error;
  }
}
