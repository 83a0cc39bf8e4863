// How long to wait before another attempt, and the loop that applies it: one policy for the upstream client
// and the webhook hooks alike.

export type HeaderMap = Record<string, string | string[] | undefined>;

/** A header's first value, by lower-case name. */
export function header(headers: HeaderMap | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

export interface RetryPolicy {
  /** Extra attempts after the first. */
  max: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A server's retry-after beyond this is ignored in favour of our own backoff (default MAX_RETRY_AFTER_MS). */
  maxRetryAfterMs?: number;
}

/** The default cap on a server's retry-after: DESIGN.md's 0-60 s. */
const MAX_RETRY_AFTER_MS = 60_000;

function inRange(ms: number, cap: number): number | undefined {
  return Number.isFinite(ms) && ms >= 0 && ms <= cap ? Math.round(ms) : undefined;
}

/** The wait the server asked for: retry-after-ms, else retry-after (seconds or HTTP date), if within the cap. */
export function retryAfterMs(headers: HeaderMap | undefined, nowMs: number, capMs = MAX_RETRY_AFTER_MS): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '') {
    const wait = inRange(Number(ms), capMs);
    if (wait !== undefined) return wait;
  }
  const after = header(headers, 'retry-after')?.trim();
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return inRange(Number(after) * 1000, capMs);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : inRange(date - nowMs, capMs);
}

/** Exponential backoff with full jitter: uniform in [0, min(maxDelay, base * 2^retryIndex)). */
export function backoffMs(retryIndex: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retryIndex);
  return Math.floor(random() * ceiling);
}

/**
 * The longest a request can take with its retries when every attempt runs to its timeout: each attempt's limit plus
 * each backoff's ceiling. A server's longer retry-after (up to its cap) is not included: that answer came quickly.
 */
export function longestRequestMs(attemptTimeoutMs: number, policy: RetryPolicy): number {
  let total = attemptTimeoutMs * (policy.max + 1);
  for (let retry = 0; retry < policy.max; retry++) total += Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return total;
}

/**
 * The longest a request can live with its retries, the server's waits included: each retry waits our backoff's
 * ceiling or a retry-after up to its cap (MAX_RETRY_AFTER_MS), whichever is longer. What the last stage's end waits
 * for before the promotion: a request still running after it is taken for one that will not end (still_running).
 */
export function longestLifeMs(attemptTimeoutMs: number, policy: RetryPolicy): number {
  const serverWaitMs = policy.maxRetryAfterMs ?? MAX_RETRY_AFTER_MS;
  let total = attemptTimeoutMs * (policy.max + 1);
  for (let retry = 0; retry < policy.max; retry++) total += Math.max(serverWaitMs, Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry));
  return total;
}

/** The server's wait when it gave a usable one (even above maxDelay: retrying sooner only earns another 429). */
function retryDelayMs(headers: HeaderMap | undefined, retryIndex: number, policy: RetryPolicy, random: () => number, nowMs: number): number {
  return retryAfterMs(headers, nowMs, policy.maxRetryAfterMs) ?? backoffMs(retryIndex, policy, random);
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
export async function withRetries<T>(attempt: (attemptNumber: number) => Promise<T>, options: RetryLoopOptions<T>): Promise<{ outcome: T; attempts: number }> {
  for (let attempts = 1; ; attempts++) {
    const outcome = await attempt(attempts);
    if (attempts > options.policy.max || !options.shouldRetry(outcome)) return { outcome, attempts };
    const delay = retryDelayMs(options.headers(outcome), attempts - 1, options.policy, options.random, options.now());
    await options.sleep(delay, options.signal);
  }
}
