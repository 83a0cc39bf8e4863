// The upstream client of one arm: a keep-alive pool, the arm's dialect, retries, and normalised results.
import { setMaxListeners } from 'node:events';
import { Pool } from 'undici';
import type { ArmName, UpstreamConfig } from '../plan/plan.js';
import { anthropicDialect } from './anthropic.js';
import { chatAttempt, type AttemptOutcome } from './attempt.js';
import { parseRateLimit } from './classify.js';
import { describeFailure, displayUrl, redact, type DescribeContext } from './describe.js';
import type { Dialect } from './dialect.js';
import { UpstreamError } from './errors.js';
import { exchange, type ExchangeLimits } from './http.js';
import { openAiDialect } from './openai.js';
import { isRetryable, realSleep, withRetries } from './retry.js';
import { isObject, parseJson, str } from './shape.js';
import type { ChatRequest, ModelList, UpstreamResult } from './types.js';

export interface UpstreamClientOptions {
  arm: ArmName;
  model: string;
  upstream: UpstreamConfig & { baseUrl: string };
  /** Sent as the dialect's auth header; omitted for keyless endpoints (local vLLM, Ollama). */
  apiKey?: string;
  /** Most sockets the pool opens to the upstream. Default 256. */
  maxConnections?: number;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
  /** Waits between attempts; rejects with the signal's reason when it aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Milliseconds since the epoch (also used for retry-after dates). Default Date.now. */
  now?: () => number;
}

export interface UpstreamClient {
  /**
   * Sends one chat request, retrying as the plan allows. Resolves for every upstream outcome, with
   * ok:false and a failure class when it failed. Rejects only when `signal` aborts (with its reason),
   * so a shutdown abort is never counted as an upstream error.
   */
  send(request: ChatRequest, signal?: AbortSignal): Promise<UpstreamResult>;
  /**
   * GET {base}/models, one attempt. Resolves for any HTTP answer, with the ids a 2xx model list carried
   * ([] otherwise: some relays answer /models with something else yet serve chat fine). Rejects with an
   * UpstreamError only when no answer came (connection, timeout).
   */
  listModels(signal?: AbortSignal): Promise<ModelList>;
  /** Closes the pool once in-flight requests end. */
  close(): Promise<void>;
}

export function dialectFor(api: UpstreamConfig['api']): Dialect {
  return api === 'anthropic' ? anthropicDialect : openAiDialect;
}

/** base_url plus a path, keeping base path prefixes such as /v1 and any query string. */
export function endpoint(baseUrl: string, suffix: string): URL {
  const url = new URL(baseUrl);
  url.pathname = url.pathname.replace(/\/+$/, '') + suffix;
  return url;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function parseModelIds(text: string): string[] | undefined {
  const json = parseJson(text);
  if (!json.ok || !isObject(json.value) || !Array.isArray(json.value.data)) return undefined;
  return json.value.data.flatMap((entry: unknown) => {
    const id = isObject(entry) ? str(entry.id) : undefined;
    return id === undefined ? [] : [id];
  });
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const { arm, model, upstream, apiKey } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? realSleep;
  const dialect = dialectFor(upstream.api);
  const chatUrl = endpoint(upstream.baseUrl, dialect.chatPath);
  const modelsUrl = endpoint(upstream.baseUrl, '/models');
  if (dialect.modelsQuery) modelsUrl.search = dialect.modelsQuery;
  const pool = new Pool(chatUrl.origin, {
    connections: options.maxConnections ?? 256,
    connect: { timeout: upstream.timeout.connectMs },
  });
  // Plan headers come last so an operator can override anything, the auth header included.
  const headers = {
    'user-agent': 'bluegreen',
    ...dialect.headers(apiKey),
    ...lowerCaseKeys(upstream.headers),
  };
  const secrets = [apiKey];
  const limits = (signal?: AbortSignal): ExchangeLimits => ({
    requestMs: upstream.timeout.requestMs,
    idleMs: upstream.timeout.idleMs,
    connectMs: upstream.timeout.connectMs,
    now,
    signal,
  });
  const context = (url: URL, attempts: number): DescribeContext => ({
    arm,
    model,
    api: upstream.api,
    url: displayUrl(url),
    apiKeyEnv: upstream.apiKeyEnv,
    attempts,
  });

  function toResult(request: ChatRequest, outcome: AttemptOutcome, attempts: number, startedAt: number): UpstreamResult {
    const rateLimit = parseRateLimit(outcome.headers);
    const common = {
      arm,
      model,
      stream: request.stream,
      attempts,
      ...(outcome.status !== undefined ? { status: outcome.status } : {}),
      ...(rateLimit ? { rateLimit } : {}),
    };
    if (!outcome.ok) {
      const errorMessage = describeFailure(context(chatUrl, attempts), outcome, secrets);
      return { ...common, ok: false, failure: outcome.failure, errorMessage, content: '', latencyMs: now() - startedAt };
    }
    const { reply } = outcome;
    return {
      ...common,
      ok: true,
      content: reply.content,
      ...(reply.servedModel !== undefined ? { servedModel: reply.servedModel } : {}),
      ...(reply.finishReason !== undefined ? { finishReason: reply.finishReason } : {}),
      ...(reply.usage ? { usage: reply.usage } : {}),
      latencyMs: outcome.endedAt - startedAt,
      ...(outcome.firstTokenAt !== undefined ? { ttftMs: outcome.firstTokenAt - startedAt } : {}),
    };
  }

  return {
    async send(request, signal) {
      const startedAt = now();
      // Every in-flight request listens on the engine's one shutdown signal; that is not a leak.
      if (signal) setMaxListeners(0, signal);
      const exchangeRequest = {
        method: 'POST' as const,
        path: chatUrl.pathname + chatUrl.search,
        headers: {
          'content-type': 'application/json',
          accept: request.stream ? 'text/event-stream' : 'application/json',
          ...headers,
        },
        body: JSON.stringify(dialect.body(model, request)),
      };
      const { outcome, attempts } = await withRetries(
        () => chatAttempt(pool, dialect, exchangeRequest, request.stream, limits(signal)),
        {
          policy: upstream.retries,
          random,
          sleep,
          now,
          signal,
          shouldRetry: (o) => !o.ok && isRetryable(o.failure, o.status),
          headers: (o) => o.headers,
        },
      );
      return toResult(request, outcome, attempts, startedAt);
    },

    async listModels(signal) {
      const request = { method: 'GET' as const, path: modelsUrl.pathname + modelsUrl.search, headers: { accept: 'application/json', ...headers } };
      const result = await exchange(pool, request, limits(signal));
      if (!result.ok) {
        const message = describeFailure(context(modelsUrl, 1), result, secrets);
        throw new UpstreamError(message, result.failure, redact(result.reason, secrets), result.status);
      }
      const success = result.status >= 200 && result.status < 300;
      return { ids: (success && parseModelIds(result.text)) || [], status: result.status };
    },

    close: () => pool.close(),
  };
}
