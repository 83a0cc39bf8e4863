// The proxy's settings from the plan's `proxy` block and the command line, with the safety rules applied:
// loopback unless client keys are configured.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { UsageError } from '../core/exit.js';
import type { Plan } from '../plan/plan.js';
// Types only: the schema (zod) stays out of the long-running proxy's heap (src/plan/load-in-worker.ts).
import type { ProxyConfig } from '../plan/schema.js';
import { MAX_PORT } from '../core/port.js';
import { readApiKey } from '../upstream/api-key.js';
import { isAzureV1 } from '../upstream/azure.js';

export interface ProxyLimitsResolved {
  maxBodyBytes: number;
  headerTimeoutMs: number;
  bodyTimeoutMs: number;
  maxConcurrency: number;
  maxConnections: number;
  maxMirrorInFlight: number;
  maxResponseBytes: number;
  maxStreamMs: number;
  /** How long a stopping proxy lets the requests in flight finish (0: not at all). */
  drainTimeoutMs: number;
}

export interface ProxySettings {
  host: string;
  port: number;
  fallback: boolean;
  /** Longest a green stream's start is held while blue can answer for it (proxy.opening_hold). */
  openingHoldMs: number;
  /** Keys the application must present; empty means none is asked for (loopback only). */
  clientKeys: string[];
  /** Model names split like the blue model (the blue model itself included). */
  splitModels: Set<string>;
  /** Other models sent to blue's upstream untouched: '*' for any; the rest get 404. */
  passthrough: Passthrough;
  /**
   * Blue's Azure deployment, when blue's upstream is reached through Azure's deployments path: every request sent
   * there is answered by that deployment, so no other model can pass through (passthrough is then none).
   */
  pinnedDeployment?: string;
  limits: ProxyLimitsResolved;
  /** The admin API (route and figures), when the plan configures one. */
  admin?: { host: string; port: number; token: string };
}

/** Which other models may pass through to blue's upstream (with the operator's key): all, or those named. */
export type Passthrough = '*' | ReadonlySet<string>;

export function passesThrough(passthrough: Passthrough, model: string): boolean {
  return passthrough === '*' || passthrough.has(model);
}

/** The startup line saying which other models reach blue's upstream (a warning when any may, off loopback). */
export function passthroughNotice(settings: Pick<ProxySettings, 'passthrough' | 'splitModels' | 'host' | 'pinnedDeployment'>): string {
  const routed = [...settings.splitModels].join(', ');
  if (settings.pinnedDeployment !== undefined) {
    return `requests for models other than ${routed} are refused (404): ${pinnedReason(settings.pinnedDeployment)}`;
  }
  if (settings.passthrough === '*') {
    const risk = isLoopback(settings.host)
      ? ''
      : ': any client holding a client key can spend the upstream key on any model (list the models that may pass in proxy.passthrough)';
    return `${risk ? 'warning: ' : ''}requests for models other than ${routed} pass through to blue's upstream (proxy.passthrough: '*')${risk}`;
  }
  if (settings.passthrough.size === 0) return `requests for models other than ${routed} are refused (404); list any that may pass in proxy.passthrough`;
  return `requests for ${[...settings.passthrough].join(', ')} pass through to blue's upstream; other models than ${routed} are refused (404)`;
}

/** How a refused model could pass, for the 404 a client gets (no deployment or base URL named: clients read it). */
export function otherModelsHint(settings: Pick<ProxySettings, 'pinnedDeployment'>): string {
  return settings.pinnedDeployment !== undefined
    ? "blue's Azure upstream answers every request on its deployment's path with that deployment, so no other model passes"
    : "other models pass only when the plan's proxy.passthrough lists them";
}

/** Why nothing passes through to an Azure deployments-path blue. */
function pinnedReason(deployment: string): string {
  return `blue's Azure upstream is reached through its deployment's path, and Azure answers every request sent there with that deployment (${deployment}), whatever model the body names; to pass other models, use base_url https://RESOURCE.openai.azure.com/openai/v1`;
}

/**
 * Blue's deployment when blue's upstream is Azure reached through a deployment's path (not the v1 path, which
 * reads the deployment from the body's model).
 */
function pinnedDeploymentOf(plan: Plan): string | undefined {
  const { upstream, model } = plan.arms.blue;
  if (upstream.api !== 'azure' || upstream.baseUrl === undefined || isAzureV1(upstream.baseUrl)) return undefined;
  return upstream.deployment ?? model;
}

/** Shorter client keys (and admin tokens) are refused: guessable, and below what the redactor recognises. */
const MIN_CLIENT_KEY_LENGTH = 16;

/** HOST:PORT, [v6]:PORT; a clear usage error otherwise. */
export function parseListen(text: string, flag = '--listen'): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match) throw new UsageError(`${flag} expects HOST:PORT (like 127.0.0.1:8787), got "${text}"`);
  if (port > MAX_PORT) throw new UsageError(`${flag}'s port must be from 0 to ${MAX_PORT}, got "${text}"`);
  return { host: (match[1] ?? match[2]) as string, port };
}

/** 127.0.0.0/8, ::1 (and 127/8 mapped into IPv6) and localhost: addresses no other machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) !== 6) return false;
  // IPv6 has many spellings (0:0:0:0:0:0:0:1; a URL's hostname gives ::ffff:127.0.0.1 as ::ffff:7f00:1): compared
  // as the URL parser writes them (which refuses a zone, fe80::1%eth0: the address is the part before it).
  const canonical = new URL(`http://[${h.replace(/%.*$/, '')}]/`).hostname;
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/**
 * The URL an application on another machine uses to reach a proxy at `url`: a proxy listening on every address
 * (0.0.0.0, ::) is not reached at that address, so the host is left for the operator to fill in.
 */
export function reachableUrl(url: string, host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '[::]') return url;
  return url.replace(/^http:\/\/(?:\[[^\]]*\]|[^/:]+)/, 'http://THIS_HOST');
}

/** Comma- or whitespace-separated keys; blanks ignored. */
export function splitKeys(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).filter((key) => key !== '');
}

export interface SettingsInput {
  listen?: string;
  adminListen?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The settings from the plan's proxy block (`block`: the plan's own, or proxyBlockOf's defaults) and the command line. */
export function proxySettings(plan: Plan, block: ProxyConfig, input: SettingsInput): ProxySettings {
  const { host, port } = parseListen(input.listen ?? block.listen);
  let clientKeys: string[] = [];
  if (block.client_keys_env !== undefined) {
    clientKeys = splitKeys(readApiKey(block.client_keys_env, input.env, input.cwd));
    if (clientKeys.length === 0) {
      throw new UsageError(
        `proxy.client_keys_env names ${block.client_keys_env}, which is not set (or empty): set it to the keys applications present, comma-separated`,
      );
    }
    const short = clientKeys.findIndex((key) => key.length < MIN_CLIENT_KEY_LENGTH);
    if (short >= 0) {
      // Says which and how long, never the key itself.
      throw new UsageError(
        `${block.client_keys_env}: key ${short + 1} of ${clientKeys.length} is ${(clientKeys[short] as string).length} characters; client keys must be at least ${MIN_CLIENT_KEY_LENGTH} (make one with \`openssl rand -hex 16\`)`,
      );
    }
  }
  if (!isLoopback(host) && clientKeys.length === 0) {
    throw new UsageError(
      `refusing to listen on ${host}: off loopback anyone who can reach the port could spend the upstream key. Set proxy.client_keys_env to a variable holding the keys applications must present, or listen on 127.0.0.1`,
    );
  }
  let admin: ProxySettings['admin'];
  if (block.admin) {
    const token = readApiKey(block.admin.token_env, input.env, input.cwd);
    if (token === undefined) {
      throw new UsageError(
        `proxy.admin.token_env names ${block.admin.token_env}, which is not set (or empty): set it to the token admin calls must carry, the same for the proxy and the rollout (export ${block.admin.token_env}=$(openssl rand -hex 16))`,
      );
    }
    if (token.length < MIN_CLIENT_KEY_LENGTH) {
      throw new UsageError(
        `${block.admin.token_env}: the admin token is ${token.length} characters; it must be at least ${MIN_CLIENT_KEY_LENGTH} (make one with \`openssl rand -hex 16\`)`,
      );
    }
    admin = { ...parseListen(input.adminListen ?? block.admin.listen, '--admin-listen'), token };
  } else if (input.adminListen !== undefined) {
    throw new UsageError('--admin-listen needs proxy.admin.token_env in the plan: admin calls always carry a token');
  }
  const aliases = block.alias === undefined ? [] : typeof block.alias === 'string' ? [block.alias] : block.alias;
  // A plan listing models to pass to such a blue is refused when it is loaded (src/plan/checks.ts).
  const pinnedDeployment = pinnedDeploymentOf(plan);
  const { limits } = block;
  return {
    host,
    port,
    fallback: block.fallback,
    openingHoldMs: block.opening_hold,
    clientKeys,
    splitModels: new Set([plan.arms.blue.model, ...aliases]),
    // A model sent to blue's deployment would be answered by blue's model, outside the split and the figures.
    passthrough: pinnedDeployment !== undefined ? new Set<string>() : block.passthrough === '*' ? '*' : new Set(block.passthrough),
    ...(pinnedDeployment !== undefined && { pinnedDeployment }),
    ...(admin && { admin }),
    limits: {
      maxBodyBytes: limits.max_body_bytes,
      headerTimeoutMs: limits.header_timeout,
      bodyTimeoutMs: limits.body_timeout,
      maxConcurrency: limits.max_concurrency,
      maxConnections: limits.max_connections,
      maxMirrorInFlight: limits.max_mirror_in_flight,
      maxResponseBytes: limits.max_response_bytes,
      maxStreamMs: limits.max_stream_duration,
      drainTimeoutMs: limits.drain_timeout,
    },
  };
}

/** This process's soft limit on open files (Linux's /proc/self/limits), or undefined where it cannot be read. */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  try {
    const line = read()
      .split('\n')
      .find((text) => text.startsWith('Max open files'));
    const soft = Number(line?.slice('Max open files'.length).trim().split(/\s+/)[0]);
    return Number.isFinite(soft) ? soft : undefined;
  } catch {
    return undefined;
  }
}

/** Files the proxy needs besides client connections: two upstream pools of 256, the admin API's 64, the rest. */
const FILES_BESIDES_CLIENTS = 2 * 256 + 64 + 64;

/**
 * A warning when max_connections would let client connections take every file the process may open: past the
 * limit new connections and upstream requests fail with EMFILE, instead of the limit closing the extra ones.
 */
export function fileLimitNotice(maxConnections: number, limit: number | undefined): string | undefined {
  if (limit === undefined || maxConnections + FILES_BESIDES_CLIENTS <= limit) return undefined;
  return `warning: proxy.limits.max_connections is ${maxConnections}, but this process may open only ${limit} files (ulimit -n), and the upstream pools and admin API need up to ${FILES_BESIDES_CLIENTS} more: raise the limit or lower max_connections, or past it connections fail with EMFILE`;
}
