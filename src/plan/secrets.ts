// The environment variables a plan names as holding secrets: they are redacted everywhere and kept from hooks.
import type { ParsedPlan } from './schema.js';

/**
 * Every `api_key_env` the plan names (top level and per arm), used or not, and the proxy's `client_keys_env` and
 * admin `token_env` when the plan has them, without duplicates.
 */
export function secretEnvNames(plan: ParsedPlan): string[] {
  const names = [
    plan.upstream.api_key_env,
    plan.blue.upstream?.api_key_env,
    plan.green.upstream?.api_key_env,
    plan.proxy?.client_keys_env,
    plan.proxy?.admin?.token_env,
  ];
  return [...new Set(names.filter((name): name is string => name !== undefined))];
}

/** The secret variables hooks may still see: those the plan lists under `hooks.pass_env`. */
export function hookPassEnv(plan: ParsedPlan): string[] {
  return plan.hooks?.pass_env ?? [];
}

/**
 * A header whose name says it holds a credential: Authorization, x-api-key, anything with auth, key, token, secret,
 * cookie, password, passphrase, credential or signature, or `pass` as a word of its own (X-Relay-Pass; not Bypass).
 */
const CREDENTIAL_HEADER = /auth|key|token|secret|cookie|passw|passphrase|credential|signature|(?:^|[-_])pass(?:$|[-_])/i;

/**
 * The credentials put in an upstream's headers despite the docs: each such header's value, and that value without
 * its scheme (Bearer, Basic, Token), as an upstream may echo either. Redacted as keys are, the proxy's answers too.
 */
export function headerCredentials(headers: Readonly<Record<string, string>>): string[] {
  return Object.entries(headers).flatMap(([name, value]) => (CREDENTIAL_HEADER.test(name) ? [value, value.replace(/^(Bearer|Basic|Token)\s+/i, '')] : []));
}
