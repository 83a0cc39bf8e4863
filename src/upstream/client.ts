// The upstream client of one arm: a keep-alive pool, the arm's dialect, retries, and normalised results.
import type { SignalWatch } from './signal-watch.js';
import { setMaxListeners } from 'node:events';
import type { ArmName, UpstreamConfig } from '../plan/plan.js';
import { resolveAdaptation } from './adapt.js';
import { anthropicDialect } from './anthropic.js';
import { azureDialect, azureRoutes, type Routes } from './azure.js';
import { chatAttempt, type AttemptOutcome } from './attempt.js';
import { parseRateLimit } from './classify.js';
import { describeFailure, displayUrl, redact, type DescribeContext } from './describe.js';
import type { Dialect } from './dialect.js';
import { UpstreamError } from './errors.js';
import { exchange, type ExchangeLimits } from './http.js';
import { openAiDialect } from './openai.js';
import { realSleep, steadyNow, systemClock, type Clock } from '../core/clock.js';
import { withRetries } from '../core/retry.js';
import { createDispatcher } from './proxy-env.js';
import { estimateUsage } from './estimate.js';
import { copyReply } from './reply.js';
import { isRetryable } from './retry.js';
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
  /**
   * Latencies and time to first token are timed on its steady clock, so a wall clock stepped by NTP mid-request measures
   * no negative or hour-long latency; its wall clock dates a retry-after. Default the system clock.
   */
  clock?: Pick<Clock, 'now' | 'steadyNow'>;
  /** For HTTPS_PROXY / HTTP_PROXY / NO_PROXY. Default: no proxy. */
  env?: NodeJS.ProcessEnv;
}

export interface UpstreamClient {
  /**
   * Sends one chat request, retrying as the plan allows. Resolves for every upstream outcome, with
   * ok:false and a failure class when it failed. Rejects only when `cancel`'s signal aborts (with its reason),
   * so a shutdown abort is never counted as an upstream error.
   */
  send(request: ChatRequest, cancel?: SignalWatch): Promise<UpstreamResult>;
  /**
   * GET {base}/models, one attempt. Resolves for any HTTP answer, with the ids a 2xx model list carried
   * ([] otherwise: some relays answer /models with something else yet serve chat fine). Rejects with an
   * UpstreamError only when no answer came (connection, timeout).
   */
  listModels(cancel?: SignalWatch): Promise<ModelList>;
  /** Closes the pool once in-flight requests end. */
  close(): Promise<void>;
}

export function dialectFor(api: UpstreamConfig['api']): Dialect {
  return api === 'anthropic' ? anthropicDialect : api === 'azure' ? azureDialect : openAiDialect;
}

/** Where an arm's chat and model-list requests go, and the model name its bodies carry. */
export function routesFor(upstream: UpstreamConfig & { baseUrl: string }, model: string): Routes {
  if (upstream.api === 'azure') return azureRoutes(upstream, model);
  const dialect = dialectFor(upstream.api);
  const models = endpoint(upstream.baseUrl, '/models');
  if (dialect.modelsQuery) models.search = dialect.modelsQuery;
  return { chat: endpoint(upstream.baseUrl, dialect.chatPath), models, bodyModel: model };
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
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const steady = () => steadyNow(clock);
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? realSleep;
  const dialect = dialectFor(upstream.api);
  const routes = routesFor(upstream, model);
  const chatUrl = routes.chat;
  const modelsUrl = routes.models;
  const adaptation = resolveAdaptation(model, upstream.request);
  const { dispatcher: pool } = createDispatcher(chatUrl, {
    connections: options.maxConnections ?? 256,
    connectTimeoutMs: upstream.timeout.connectMs,
    env: options.env ?? {},
  });
  const origin = chatUrl.origin;
  // Plan headers come last so an operator can override anything, the auth header included.
  const headers = {
    'user-agent': 'bluegreen',
    ...dialect.headers(apiKey),
    ...lowerCaseKeys(upstream.headers),
  };
  const secrets = [apiKey];
  const limits = (cancel?: SignalWatch): ExchangeLimits => ({
    requestMs: upstream.timeout.requestMs,
    idleMs: upstream.timeout.idleMs,
    connectMs: upstream.timeout.connectMs,
    steadyNow: steady,
    cancel,
  });
  const context = (url: URL, attempts: number): DescribeContext => ({
    arm,
    model,
    api: upstream.api,
    url: displayUrl(url),
    apiKeyEnv: upstream.apiKeyEnv,
    attempts,
  });

  // Built field by field (no conditional spreads): this runs once per request and is on the hot path.
  function toResult(request: ChatRequest, outcome: AttemptOutcome, attempts: number, startedAt: number): UpstreamResult {
    let result: UpstreamResult;
    if (!outcome.ok) {
      const errorMessage = describeFailure(context(chatUrl, attempts), outcome, secrets);
      result = {
        arm,
        model,
        stream: request.stream,
        attempts,
        ok: false,
        failure: outcome.failure,
        errorMessage,
        content: '',
        latencyMs: steady() - startedAt,
      };
      // A stream cut after its first token (ttft_p95 counts the failure by it).
      if (outcome.firstTokenAt !== undefined) result.ttftMs = outcome.firstTokenAt - startedAt;
    } else {
      const { reply } = outcome;
      result = { arm, model, stream: request.stream, attempts, ok: true, content: reply.content, latencyMs: outcome.endedAt - startedAt };
      copyReply(result, reply);
      result.usage = reply.usage ?? estimateUsage(request, reply);
      if (outcome.firstTokenAt !== undefined) result.ttftMs = outcome.firstTokenAt - startedAt;
    }
    if (outcome.status !== undefined) result.status = outcome.status;
    const rateLimit = parseRateLimit(outcome.headers);
    if (rateLimit) result.rateLimit = rateLimit;
    return result;
  }

  // The request headers, built once per kind of request rather than once per request.
  const chatHeaders = (accept: string): Record<string, string> => ({ 'content-type': 'application/json', accept, ...headers });
  const plainHeaders = chatHeaders('application/json');
  const streamHeaders = chatHeaders('text/event-stream');
  const chatPath = chatUrl.pathname + chatUrl.search;
  const shouldRetry = (o: AttemptOutcome) => !o.ok && isRetryable(o.failure, o.status);
  const headersOf = (o: AttemptOutcome) => o.headers;
  const signalsSeen = new WeakSet<AbortSignal>();

  return {
    async send(request, cancel) {
      const startedAt = steady();
      const signal = cancel?.signal;
      if (signal && !signalsSeen.has(signal)) {
        // Every in-flight request may wait (between retries) on the engine's one shutdown signal; not a leak.
        setMaxListeners(0, signal);
        signalsSeen.add(signal);
      }
      const exchangeRequest = {
        origin,
        method: 'POST' as const,
        path: chatPath,
        headers: request.stream ? streamHeaders : plainHeaders,
        body: JSON.stringify(dialect.body(routes.bodyModel, request, adaptation)),
      };
      const attemptLimits = limits(cancel);
      const { outcome, attempts } = await withRetries(() => chatAttempt(pool, dialect, exchangeRequest, request.stream, attemptLimits), {
        policy: upstream.retries,
        random,
        sleep,
        now,
        signal,
        shouldRetry,
        headers: headersOf,
      });
      return toResult(request, outcome, attempts, startedAt);
    },

    async listModels(cancel) {
      const request = {
        origin: modelsUrl.origin,
        method: 'GET' as const,
        path: modelsUrl.pathname + modelsUrl.search,
        headers: { accept: 'application/json', ...headers },
      };
      const result = await exchange(pool, request, limits(cancel));
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
