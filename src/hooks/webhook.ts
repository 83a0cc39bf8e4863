// webhook hooks: POST the event as JSON, retrying network failures, 408, 429 and 5xx with backoff.
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { withRetries, type HeaderMap } from '../core/retry.js';
import { formatDuration } from '../core/format.js';
import { basicToken, clip, safeUrl, scrubUrl } from './text.js';
import type { HookEvent, HookOutcome } from './types.js';

export interface WebhookOptions {
  /** Each attempt's time limit, answer body included. */
  attemptTimeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The backoff's jitter; default Math.random. */
  random?: () => number;
  signal?: AbortSignal;
  /** Removes known secrets from the answer before it is cut into a message (a cut key would keep its start). */
  redact?: (text: string) => string;
}

type Attempt =
  /** `unread`: why its body could not be read (the status had come: the answer stands). */
  | { kind: 'answered'; status: number; body: string; headers: HeaderMap; unread?: string }
  | { kind: 'timeout' }
  | { kind: 'network'; message: string }
  | { kind: 'cancelled' };

/** The upstream client's policy, but a Retry-After over 30 s is not waited for: a hook must not stall a rollback. */
const POLICY = { baseDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 30_000 };
const BODY_LIMIT = 2048;

export function webhookPayload(event: HookEvent): Record<string, unknown> {
  return { type: `bluegreen.${event.event}`, ...event };
}

/** Never rejects: every failure becomes an outcome with ok false. */
export async function runWebhook(url: string, event: HookEvent, options: WebhookOptions): Promise<HookOutcome> {
  const started = performance.now();
  const label = `webhook ${safeUrl(url)}`;
  const body = JSON.stringify(webhookPayload(event));
  let last = { kind: 'cancelled' } as Attempt;
  let attempts = 0;
  try {
    await withRetries(
      async () => {
        if (options.signal?.aborted) return (last = { kind: 'cancelled' });
        attempts++;
        return (last = await attempt(url, body, options));
      },
      {
        policy: { ...POLICY, max: Math.max(0, options.retries) },
        random: options.random ?? Math.random,
        sleep: options.sleep,
        now: () => Date.now(),
        signal: options.signal,
        shouldRetry: retryable,
        headers: (outcome) => (outcome.kind === 'answered' ? outcome.headers : undefined),
      },
    );
  } catch {
    // The wait was cut short: the rollout is stopping, so report what we have.
    if (options.signal?.aborted) last = { kind: 'cancelled' };
  }
  const done = (ok: boolean, message: string): HookOutcome => ({
    ok,
    kind: 'webhook',
    durationMs: Math.round(performance.now() - started),
    message: scrubUrl(message, url),
    attempts,
    ...(last.kind === 'answered' ? { status: last.status } : {}),
  });
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  switch (last.kind) {
    case 'answered': {
      const unread = last.unread === undefined ? '' : `; its body was not read (${last.unread})`;
      if (last.status >= 200 && last.status < 300) {
        return done(true, `${label} answered ${last.status} in ${formatDuration(performance.now() - started)}${tries}${unread}`);
      }
      // Scrubbed and redacted before the cut: a body quoting the URL cut inside its token would keep the token's start.
      const said = clip((options.redact ?? ((text: string) => text))(scrubUrl(last.body, url)), 120);
      return done(false, `${label} answered ${last.status}${tries}${said ? `: ${said}` : unread}`);
    }
    case 'timeout':
      return done(false, `${label} timed out after ${formatDuration(options.attemptTimeoutMs)}${attempts > 1 ? ` on each of ${attempts} attempts` : ''}`);
    case 'network':
      return done(false, `${label} failed${tries}: ${last.message}`);
    case 'cancelled':
      return done(false, `${label} was cancelled: the rollout is stopping`);
  }
}

/**
 * The URL to send to and its headers. Credentials in the URL (`https://user:token@hooks.example.com/x`, as curl
 * takes them) become Basic auth: undici would drop them silently, and the hook would fail with a 401.
 */
function webhookRequest(url: string): { url: string; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'bluegreen-hook' };
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url, headers };
  headers.authorization = `Basic ${basicToken(parsed)}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), headers };
}

async function attempt(target: string, body: string, options: WebhookOptions): Promise<Attempt> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), options.attemptTimeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout.signal, options.signal]) : timeout.signal;
  try {
    const { url, headers } = webhookRequest(target);
    const response = await request(url, {
      method: 'POST',
      headers,
      body,
      signal,
      // Hooks are rare: a fresh connection each time, nothing left open to keep the process alive.
      reset: true,
    });
    // The status says how the hook went: a rollout stopping while the body is read does not unsay it ("answered 200",
    // not "was cancelled"), nor does the attempt's time running out or the connection failing then: the receiver
    // answered, and a 2xx taken for a timeout was sent again (a promotion's webhook fired twice). The body is only
    // for the message.
    const answered = (text: string, unread?: string): Attempt => ({
      kind: 'answered',
      status: response.statusCode,
      body: text,
      headers: response.headers,
      ...(unread !== undefined && { unread }),
    });
    try {
      return answered(await readSome(response.body));
    } catch (error) {
      if (options.signal?.aborted) return answered('');
      return answered('', timeout.signal.aborted ? `timed out after ${formatDuration(options.attemptTimeoutMs)}` : networkMessage(error));
    }
  } catch (error) {
    if (options.signal?.aborted) return { kind: 'cancelled' };
    if (timeout.signal.aborted) return { kind: 'timeout' };
    return { kind: 'network', message: networkMessage(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Enough of the answer for a message; the rest is dropped rather than buffered. */
async function readSome(stream: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= BODY_LIMIT) break;
  }
  return Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8');
}

function retryable(result: Attempt): boolean {
  if (result.kind === 'timeout' || result.kind === 'network') return true;
  if (result.kind !== 'answered') return false;
  return result.status === 408 || result.status === 429 || result.status >= 500;
}

/** undici errors carry a code and often a cause; "ECONNREFUSED 127.0.0.1:9" says more than "fetch failed". */
function networkMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : '';
  const code = (error as { code?: unknown }).code;
  const base = error.message || (typeof code === 'string' ? code : 'network error');
  return clip(cause && !base.includes(cause) ? `${base} (${cause})` : base, 200);
}
