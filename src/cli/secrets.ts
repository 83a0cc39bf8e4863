// Registers a loaded plan's keys with the CLI's redactor, and builds what hooks need to keep them out.
import { createRedactor, MIN_SECRET_LENGTH } from '../core/redact.js';
import { base64Spellings, otherSpellings } from '../core/secret-spellings.js';
// From their modules, not the hooks index: it loads the webhook actuator (undici), which validate must not load.
import { hookUrlSecrets } from '../hooks/text.js';
import type { HookSecrets } from '../hooks/types.js';
import type { Plan } from '../plan/plan.js';
import { headerCredentials, hookPassEnv, secretEnvNames } from '../plan/secrets.js';
import { readApiKey } from '../upstream/api-key.js';
import type { CliContext } from './context.js';

/**
 * Adds the values of every key variable the plan names (from the environment or ./.env) to ctx's redactor,
 * creating one when the context has none. Returns what hook runs need.
 */
export function protectPlanSecrets(ctx: CliContext, plan: Plan): HookSecrets {
  ctx.redactor ??= createRedactor();
  const names = secretEnvNames(plan);
  for (const name of names) {
    const values = [readApiKey(name, ctx.env, ctx.cwd), ctx.env[name]];
    // A client-keys variable holds a list: each key in it is a secret of its own.
    const keys = [...values, ...values.flatMap((value) => value?.split(/[\s,]+/) ?? [])];
    ctx.redactor.add(...keys, ...encodedSpellings(keys));
  }
  // Credentials put in upstream.headers despite the docs (Authorization, x-api-key...) are kept out of output too.
  for (const arm of [plan.arms.blue, plan.arms.green]) {
    const credentials = headerCredentials(arm.upstream.headers);
    ctx.redactor.add(...credentials, ...encodedSpellings(credentials));
  }
  // A hook URL's token (in its path, query or userinfo) is kept out of anything quoting the URL, a hook's output too.
  for (const hook of [plan.hooks?.on_stage, plan.hooks?.on_rollback, plan.hooks?.on_promote, plan.hooks?.on_abort]) {
    if (hook) ctx.redactor.add(...hookUrlSecrets(hook));
  }
  // A forward proxy's password (https://user:pass@proxy:3128) can surface in a connection error.
  for (const name of PROXY_VARIABLES) ctx.redactor.add(proxyPassword(ctx.env[name]));
  return { redactor: ctx.redactor, envNames: names, passEnv: hookPassEnv(plan) };
}

/**
 * A key as an upstream may echo it (a relay's debug text in hex, a base64-encoded header) or a hook may print it
 * (`base64`, `xxd -p`): the proxy keeps these from the application (src/proxy/header-keys.ts), and the rollout's
 * own output, journal, state and reports keep them out the same way.
 */
function encodedSpellings(keys: readonly (string | undefined)[]): string[] {
  const secrets = keys.map((key) => key?.trim() ?? '').filter((key) => key.length >= MIN_SECRET_LENGTH);
  return [...secrets.flatMap(base64Spellings), ...secrets.flatMap(otherSpellings)];
}

const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'];

function proxyPassword(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const password = new URL(value).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
