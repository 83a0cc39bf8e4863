// When to retry and how long to wait: pure rules, plus the loop that applies them.
import { header, type HeaderMap } from './classify.js';
import type { FailureClass } from './types.js';

export interface RetryPolicy {
  /** Extra attempts after the first. */
  max: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** A server's retry-after beyond this is ignored in favour of our own backoff. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** 408, 409, 429 (not out of quota), 5xx, timeouts and connection errors are worth another try. */
export function isRetryable(failure: FailureClass, status?: number): boolean {
  switch (failure) {
    case 'timeout':
    case 'connection':
    case 'rate_limited':
    case 'server_error':
      return true;
    case 'client_error':
      return status === 409;
    default:
      // auth, quota and bad_response will not fix themselves.
      return false;
  }
}

function inRange(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_RETRY_AFTER_MS ? ms : undefined;
}

/** The wait the server asked for: retry-after-ms, else retry-after (seconds or HTTP date), if 0–60 s. */
export function retryAfterMs(headers: HeaderMap | undefined, nowMs: number): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '') {
    const wait = inRange(Number(ms));
    if (wait !== undefined) return wait;
  }
  const after = header(headers, 'retry-after')?.trim();
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return inRange(Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : inRange(date - nowMs);
}

/** Exponential backoff with full jitter: uniform in [0, min(maxDelay, base * 2^retryIndex)). */
export function backoffMs(retryIndex: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retryIndex);
  return Math.floor(random() * ceiling);
}

/** The server's wait when it gave a usable one (even above maxDelay: retrying sooner only earns another 429). */
export function retryDelayMs(
  headers: HeaderMap | undefined,
  retryIndex: number,
  policy: RetryPolicy,
  random: () => number,
  nowMs: number,
): number {
  return retryAfterMs(headers, nowMs) ?? backoffMs(retryIndex, policy, random);
}

export interface RetryLoopOptions<T> {
  policy: RetryPolicy;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  signal?: AbortSignal;
  /** Whether this outcome deserves another attempt (successes never do). */
  shouldRetry(outcome: T): boolean;
  /** The response headers of the outcome, for retry-after. */
  headers(outcome: T): HeaderMap | undefined;
}

/** Runs attempt until it succeeds, fails for good, or retries run out. Rejects only if the signal aborts. */
export async function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryLoopOptions<T>,
): Promise<{ outcome: T; attempts: number }> {
  for (let attempts = 1; ; attempts++) {
    const outcome = await attempt(attempts);
    if (attempts > options.policy.max || !options.shouldRetry(outcome)) return { outcome, attempts };
    const delay = retryDelayMs(options.headers(outcome), attempts - 1, options.policy, options.random, options.now());
    await options.sleep(delay, options.signal);
  }
}

/** The real sleep: rejects with the signal's reason if it aborts first. */
export function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
