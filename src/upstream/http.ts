// One HTTP exchange over undici with our own timers, so a timeout can be told apart from a dead connection.
import type { Dispatcher } from 'undici';
import { classifyNetworkError, type HeaderMap } from './classify.js';
import type { FailureClass } from './types.js';

export interface ExchangeRequest {
  method: 'GET' | 'POST';
  /** Path and query, relative to the dispatcher's origin. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface ExchangeLimits {
  /** The whole exchange, body included. */
  requestMs: number;
  /** Longest silence between chunks of a streamed 2xx body. */
  idleMs: number;
  /** Only for the message when the connect times out (the dispatcher enforces it). */
  connectMs: number;
  now: () => number;
  /** Aborting it makes exchange reject with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Receives a 2xx body as it arrives instead of it being collected; returns true once it has seen the
   * terminator, after which the rest is drained (for connection reuse) but no longer waited for.
   */
  onText?: (text: string) => boolean;
}

export type ExchangeResult =
  | { ok: true; status: number; headers: HeaderMap; text: string; endedAt: number }
  | {
      ok: false;
      failure: FailureClass;
      reason: string;
      /** Which of our timers fired, when one did. */
      expired?: 'request' | 'idle';
      status?: number;
      headers?: HeaderMap;
    };

export async function exchange(
  dispatcher: Dispatcher,
  request: ExchangeRequest,
  limits: ExchangeLimits,
): Promise<ExchangeResult> {
  limits.signal?.throwIfAborted();
  const controller = new AbortController();
  let expired: 'request' | 'idle' | undefined;
  const expire = (kind: 'request' | 'idle') => {
    expired ??= kind;
    controller.abort();
  };
  const requestTimer = setTimeout(() => expire('request'), limits.requestMs);
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => expire('idle'), limits.idleMs);
  };
  const onCallerAbort = () => controller.abort(limits.signal?.reason);
  limits.signal?.addEventListener('abort', onCallerAbort, { once: true });

  let status: number | undefined;
  let headers: HeaderMap | undefined;
  let endedAt: number | undefined;
  try {
    const response = await dispatcher.request({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
      // Our timers replace undici's, which would fail with errors we could not tell apart.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    status = response.statusCode;
    headers = response.headers;
    if (!limits.onText || status < 200 || status >= 300) {
      const text = await response.body.text();
      return { ok: true, status, headers, text, endedAt: limits.now() };
    }
    const decoder = new TextDecoder();
    armIdle();
    for await (const chunk of response.body) {
      armIdle();
      if (endedAt === undefined && limits.onText(decoder.decode(chunk as Uint8Array, { stream: true }))) {
        endedAt = limits.now();
      }
    }
    if (endedAt === undefined) limits.onText(decoder.decode());
    return { ok: true, status, headers, text: '', endedAt: endedAt ?? limits.now() };
  } catch (err) {
    if (limits.signal?.aborted) throw limits.signal.reason;
    // The answer was whole; only the tail after the terminator stalled or broke.
    if (endedAt !== undefined && status !== undefined && headers !== undefined) {
      return { ok: true, status, headers, text: '', endedAt };
    }
    if (expired === 'request') {
      return { ok: false, failure: 'timeout', expired, reason: `request timeout, ${limits.requestMs} ms`, status, headers };
    }
    if (expired === 'idle') {
      return { ok: false, failure: 'timeout', expired, reason: `stream idle for ${limits.idleMs} ms`, status, headers };
    }
    return { ok: false, ...classifyNetworkError(err, limits.connectMs), status, headers };
  } finally {
    clearTimeout(requestTimer);
    clearTimeout(idleTimer);
    limits.signal?.removeEventListener('abort', onCallerAbort);
  }
}
