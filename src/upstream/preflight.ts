// Before any traffic: is each upstream reachable, is its key accepted, does it list the arms' models?
import type { ArmName, UpstreamConfig } from '../plan/plan.js';
import { formatDuration } from '../core/format.js';
import { missingKeyText, readApiKey } from './api-key.js';
import { createUpstreamClient } from './client.js';
import { displayUrl, redact } from './describe.js';
import { PreflightError, UpstreamError } from './errors.js';
import { probeRequest } from './probe.js';

export interface PreflightTarget {
  arm: ArmName;
  model: string;
  upstream: UpstreamConfig & { baseUrl: string };
}

export interface PreflightOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Budget for GET /models on each upstream. Default 10 s. */
  timeoutMs?: number;
}

export interface PreflightReport {
  warnings: string[];
  /** The ids each arm's upstream listed ([] for arms not checked or whose list was unreadable). */
  models: Record<ArmName, string[]>;
}

export const DEFAULT_PREFLIGHT_TIMEOUT_MS = 10_000;

/** The base URL as the operator wrote it, minus anything secret. */
function baseName(baseUrl: string): string {
  return displayUrl(new URL(baseUrl)).replace(/\/$/, '');
}

function unreachable(err: UpstreamError, base: string, timeoutMs: number, keyEnv: string | undefined): string {
  if (err.failure === 'timeout') {
    return `${base} did not answer GET /models within ${formatDuration(timeoutMs)}; check upstream.base_url and the network`;
  }
  if (err.failure === 'connection') return `could not reach ${base} (${err.reason}); check upstream.base_url`;
  return `could not send a request to ${base} (${err.reason}); check upstream.headers${keyEnv ? ` and ${keyEnv}` : ''}`;
}

function refused(status: number, base: string, keyEnv: string | undefined): string {
  if (status === 401 || status === 403) {
    return keyEnv ? `${keyEnv} was rejected by ${base} (${status})` : `${base} refused the request without a key (${status}); set upstream.api_key_env`;
  }
  if (status === 404) {
    return `${base} answered GET /models with 404; check upstream.base_url (it usually ends in /v1), or set upstream.models_endpoint: skip for a gateway without a models list`;
  }
  if (status === 429) return `${base} answered GET /models with 429 (rate limited or out of quota); check the account`;
  return `${base} answered GET /models with ${status}; check upstream.base_url and the upstream's status`;
}

function openClient(target: PreflightTarget, options: PreflightOptions) {
  const { upstream } = target;
  const keyEnv = upstream.apiKeyEnv;
  const apiKey = keyEnv ? readApiKey(keyEnv, options.env, options.cwd) : undefined;
  if (keyEnv && apiKey === undefined) {
    throw new PreflightError(missingKeyText(keyEnv, options.env, options.cwd));
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_PREFLIGHT_TIMEOUT_MS;
  const client = createUpstreamClient({
    arm: target.arm,
    model: target.model,
    // One attempt, as for GET /models: preflight says what is wrong now rather than waiting through backoff.
    upstream: { ...upstream, timeout: { ...upstream.timeout, requestMs: timeoutMs }, retries: { ...upstream.retries, max: 0 } },
    apiKey,
    env: options.env,
    maxConnections: 1,
  });
  const fail = (message: string) => new PreflightError(redact(message, [apiKey]));
  return { client, fail, timeoutMs, keyEnv };
}

/** GET /models: the ids listed. Throws a PreflightError when the upstream cannot be reached or refuses. */
async function listModels(target: PreflightTarget, options: PreflightOptions): Promise<string[]> {
  const base = baseName(target.upstream.baseUrl);
  const { client, fail, timeoutMs, keyEnv } = openClient(target, options);
  try {
    const list = await client.listModels();
    if (list.status < 200 || list.status >= 300) throw fail(refused(list.status, base, keyEnv));
    return list.ids;
  } catch (err) {
    throw err instanceof UpstreamError ? fail(unreachable(err, base, timeoutMs, keyEnv)) : err;
  } finally {
    await client.close();
  }
}

/** A tiny chat request to the arm's model (models_endpoint: skip): proves the key and the model at once. */
async function probeChat(target: PreflightTarget, options: PreflightOptions): Promise<void> {
  const { client, fail } = openClient(target, options);
  try {
    const result = await client.send(probeRequest());
    if (!result.ok) throw fail(`preflight chat request failed: ${result.errorMessage ?? result.failure ?? 'error'}`);
  } finally {
    await client.close();
  }
}

/**
 * Checks each distinct upstream once, in order: key set, GET /models answers, key accepted. Throws a
 * PreflightError (exit 3) on the first failure; a model the upstream does not list is only a warning
 * (models_endpoint: warn) or a failure (require). With models_endpoint: skip, /models is never asked: a
 * tiny chat request to each arm's model proves the key and the model instead.
 */
function requireListed(group: PreflightTarget[], ids: string[]): void {
  for (const target of group) {
    if (!ids.includes(target.model)) {
      throw new PreflightError(
        `${target.arm} model ${target.model} is not listed by ${baseName(target.upstream.baseUrl)}/models (models_endpoint: require); check the model name, or set models_endpoint: warn`,
      );
    }
  }
}

export async function preflight(targets: PreflightTarget[], options: PreflightOptions): Promise<PreflightReport> {
  const groups = new Map<string, PreflightTarget[]>();
  for (const target of targets) {
    const { api, baseUrl, apiKeyEnv } = target.upstream;
    const key = JSON.stringify([api, baseUrl, apiKeyEnv ?? null, target.upstream.modelsEndpoint, target.upstream.apiVersion ?? null]);
    groups.set(key, [...(groups.get(key) ?? []), target]);
  }
  const report: PreflightReport = { warnings: [], models: { blue: [], green: [] } };
  for (const group of groups.values()) {
    const [first] = group;
    if (!first) continue;
    const mode = first.upstream.modelsEndpoint;
    if (mode === 'skip') {
      for (const target of group) await probeChat(target, options);
      continue;
    }
    const ids = await listModels(first, options);
    if (mode === 'require') requireListed(group, ids);
    // The simulator lists only the models it has a profile for (`default` serves any other): whether it serves an
    // arm's model is the plan's to say (plan/warnings.ts), not a relay's listing to warn of.
    if (first.upstream.simulate !== undefined) continue;
    if (ids.length === 0) {
      // Some relays answer /models with an empty or non-list body yet serve chat: not fatal.
      report.warnings.push(`${baseName(first.upstream.baseUrl)}/models listed no models; the model names were not checked`);
      continue;
    }
    for (const target of group) {
      report.models[target.arm] = ids;
      if (!ids.includes(target.model)) {
        report.warnings.push(
          `${target.arm} model ${target.model} is not listed by ${baseName(target.upstream.baseUrl)}/models; continuing (relays often do not list every model)`,
        );
      }
    }
  }
  return report;
}
