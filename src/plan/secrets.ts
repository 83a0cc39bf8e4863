// The environment variables a plan names as holding secrets: they are redacted everywhere and kept from hooks.
import type { ParsedPlan } from './schema.js';

/**
 * Every `api_key_env` the plan names (top level and per arm), used or not, and the proxy's `client_keys_env`
 * when the plan has one, without duplicates.
 */
export function secretEnvNames(plan: ParsedPlan): string[] {
  const names = [plan.upstream.api_key_env, plan.blue.upstream?.api_key_env, plan.green.upstream?.api_key_env, plan.proxy?.client_keys_env];
  return [...new Set(names.filter((name): name is string => name !== undefined))];
}

/** The secret variables hooks may still see: those the plan lists under `hooks.pass_env`. */
export function hookPassEnv(plan: ParsedPlan): string[] {
  return plan.hooks?.pass_env ?? [];
}
