// An upstream reached over plain http:// off loopback is sent the key (api_key_env, or a credential put in
// upstream.headers) unencrypted, to be read by anyone on the path; so is a proxy's admin API the admin token, and a
// webhook its URL's credentials or token. Often meant (vLLM on a private network), so a
// warning, not an error; a typo of https:// for a hosted API is the case it catches.
import { urlSecrets } from '../hooks/text.js';
import { headerCredentials } from './secrets.js';
import { ARMS, type Plan } from './plan.js';
import type { PlanWarning } from './warnings.js';
import { isLoopback } from '../proxy/config.js';

export function cleartextKeyWarnings(plan: Plan): PlanWarning[] {
  return [...upstreamWarnings(plan), ...adminUrlWarnings(plan), ...webhookWarnings(plan)];
}

const HOOKS = ['on_stage', 'on_rollback', 'on_promote', 'on_abort'] as const;

/** A webhook's URL credentials are sent as a Basic auth header (src/hooks/webhook.ts), its path and query as written. */
function webhookWarnings(plan: Plan): PlanWarning[] {
  return HOOKS.flatMap((name) => {
    const url = plan.hooks?.[name]?.webhook;
    const host = plainHttpHost(url);
    if (url === undefined || host === undefined || isLoopback(host)) return [];
    const { username, password } = new URL(url);
    if (username !== '' || password !== '') {
      return [{ keyPath: `hooks.${name}.webhook`, message: cleartext(host, 'the credentials in its URL (sent as Basic auth) cross') }];
    }
    // Slack's, Discord's and many other webhooks' token is in the path (or the query): sent in the clear as well.
    if (urlSecrets(url).length === 0) return [];
    return [{ keyPath: `hooks.${name}.webhook`, message: cleartext(host, 'the token in its URL (path or query) crosses') }];
  });
}

function upstreamWarnings(plan: Plan): PlanWarning[] {
  const warned = new Set<string>();
  return ARMS.flatMap((arm) => {
    const upstream = plan.arms[arm].upstream;
    const host = plainHttpHost(upstream.baseUrl);
    if (host === undefined || isLoopback(host)) return [];
    const credentials = [
      ...(upstream.apiKeyEnv ? [`the key in ${upstream.apiKeyEnv}`] : []),
      ...(headerCredentials(upstream.headers).length > 0 ? ['the credentials in its headers'] : []),
    ];
    if (credentials.length === 0) return [];
    // An arm without its own base_url uses the plan's upstream: warned of once, there.
    const keyPath = plan[arm].upstream?.base_url === undefined ? 'upstream.base_url' : `${arm}.upstream.base_url`;
    if (warned.has(keyPath)) return [];
    warned.add(keyPath);
    return [
      {
        keyPath,
        message: cleartext(host, `${credentials.join(' and ')} ${credentials.length > 1 ? 'cross' : 'crosses'}`),
      },
    ];
  });
}

/** The rollout sends each proxy it drives the admin token, a bearer header, on every call. */
function adminUrlWarnings(plan: Plan): PlanWarning[] {
  const token = plan.proxy?.admin?.token_env;
  if (token === undefined) return [];
  return (plan.proxy?.controller?.admin_urls ?? []).flatMap((url, index) => {
    const host = plainHttpHost(url);
    if (host === undefined || isLoopback(host)) return [];
    return [{ keyPath: `proxy.controller.admin_urls[${index}]`, message: cleartext(host, `the admin token in ${token} crosses`) }];
  });
}

function cleartext(host: string, what: string): string {
  return `http:// to ${host}, off loopback: ${what} the network unencrypted, readable on the way; use https:// unless that network is private`;
}

/** The host of a plain http:// URL (an IPv6 one without its brackets); undefined for https:// or none. */
function plainHttpHost(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' ? parsed.hostname.replace(/^\[(.*)\]$/, '$1') : undefined;
  } catch {
    return undefined;
  }
}
