// Registers a loaded plan's keys with the CLI's redactor, and builds what hooks need to keep them out.
import { createRedactor, type Redactor } from '../core/redact.js';
import type { HookSecrets } from '../hooks/index.js';
import type { Plan } from '../plan/plan.js';
import { hookPassEnv, secretEnvNames } from '../plan/secrets.js';
import { readApiKey } from '../upstream/api-key.js';
import type { CliContext } from './context.js';

/**
 * Adds the values of every key variable the plan names (from the environment or ./.env) to ctx's redactor,
 * creating one when the context has none. Returns what hook runs need.
 */
export function protectPlanSecrets(ctx: CliContext, plan: Plan): HookSecrets {
  ctx.redactor ??= createRedactor();
  const names = secretEnvNames(plan);
  for (const name of names) ctx.redactor.add(readApiKey(name, ctx.env, ctx.cwd), ctx.env[name]);
  return { redactor: ctx.redactor, envNames: names, passEnv: hookPassEnv(plan) };
}

export function redactorOf(ctx: CliContext): Redactor {
  ctx.redactor ??= createRedactor();
  return ctx.redactor;
}
