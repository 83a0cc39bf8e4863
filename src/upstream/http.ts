// One HTTP exchange over undici with our own timers, so a timeout can be told apart from a dead connection.
//
// This is the hot path of every request, so it talks to undici's dispatch() with a handler rather than through
// request(): no Readable body stream, no per-request AbortController and no per-request listener on the
// caller's signal (one listener per signal serves every exchange in flight on it). Benchmarks: docs/benchmarks.md.
import { TextDecoder } from 'node:util';
import type { Dispatcher } from 'undici';
import { classifyNetworkError, type HeaderMap } from './classify.js';
import type { FailureClass } from './types.js';

export interface ExchangeRequest {
  /** Scheme, host and port: needed by an agent (a proxy) that serves several origins; a pool knows its own. */
  origin?: string;
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

export function exchange(dispatcher: Dispatcher, request: ExchangeRequest, limits: ExchangeLimits): Promise<ExchangeResult> {
  try {
    limits.signal?.throwIfAborted();
  } catch (reason) {
    return Promise.reject(reason);
  }
  return new Promise<ExchangeResult>((resolve, reject) => {
    new Exchange(limits, resolve, reject).start(dispatcher, request);
  });
}

// --- the caller's signal: one listener per signal, whatever the number of exchanges in flight on it ---------

const watchers = new WeakMap<AbortSignal, Set<Exchange>>();

function watch(signal: AbortSignal, exchange: Exchange): void {
  let set = watchers.get(signal);
  if (!set) {
    const members = new Set<Exchange>();
    set = members;
    watchers.set(signal, members);
    signal.addEventListener(
      'abort',
      () => {
        const all = [...members];
        members.clear();
        for (const member of all) member.callerAborted(signal.reason);
      },
      { once: true },
    );
  }
  set.add(exchange);
}

function unwatch(signal: AbortSignal, exchange: Exchange): void {
  watchers.get(signal)?.delete(exchange);
}

// --- one exchange -------------------------------------------------------------------------------------------

class Exchange implements Dispatcher.DispatchHandler {
  private settled = false;
  /** The request is over on the wire (completed or failed): nothing more will arrive. */
  private finished = false;
  private controller?: Dispatcher.DispatchController;
  /** An abort asked for before undici handed us the controller; applied as soon as it does. */
  private pendingAbort?: Error;
  private expired?: 'request' | 'idle';
  private status?: number;
  private headers?: HeaderMap;
  private chunks?: Buffer[];
  private decoder?: TextDecoder;
  private endedAt?: number;
  private requestTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;

  constructor(
    private readonly limits: ExchangeLimits,
    private readonly resolve: (result: ExchangeResult) => void,
    private readonly reject: (reason: unknown) => void,
  ) {}

  start(dispatcher: Dispatcher, request: ExchangeRequest): void {
    const { limits } = this;
    this.requestTimer = setTimeout(() => this.expire('request'), limits.requestMs);
    if (limits.signal) watch(limits.signal, this);
    try {
      dispatcher.dispatch(
        {
          origin: request.origin,
          method: request.method,
          path: request.path,
          headers: request.headers,
          body: request.body,
          // Our timers replace undici's, which would fail with errors we could not tell apart.
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        this,
      );
    } catch (error) {
      this.onResponseError(undefined, error as Error);
    }
  }

  // --- undici handler -------------------------------------------------------------------------------------

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.pendingAbort) controller.abort(this.pendingAbort);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: HeaderMap): void {
    // 1xx informational answers come before the real one.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
    if (this.limits.onText && statusCode >= 200 && statusCode < 300) {
      this.decoder = new TextDecoder();
      this.armIdle();
    } else {
      this.chunks = [];
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks) {
      this.chunks.push(chunk);
      return;
    }
    if (!this.decoder || !this.limits.onText) return;
    this.armIdle();
    if (this.endedAt === undefined && this.feed(this.limits.onText, this.decoder.decode(chunk, { stream: true }))) {
      this.endedAt = this.limits.now();
      // The answer is whole: the rest of the body is drained for connection reuse, not waited for.
      this.succeed('');
    }
  }

  onResponseEnd(): void {
    if (this.decoder) {
      if (this.endedAt === undefined && this.limits.onText) this.feed(this.limits.onText, this.decoder.decode());
      this.finish();
      this.succeed('');
      return;
    }
    const chunks = this.chunks ?? [];
    const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
    this.finish();
    this.succeed(text);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.finish();
    if (this.settled) return;
    const { limits } = this;
    if (limits.signal?.aborted) return this.fail(limits.signal.reason);
    if (this.expired) return this.settle(this.timeoutResult(this.expired));
    this.settle({ ok: false, ...classifyNetworkError(error, limits.connectMs), status: this.status, headers: this.headers });
  }

  // --- our side -------------------------------------------------------------------------------------------

  /** Hands text to the caller's reader; a reader that throws fails the exchange rather than undici's parser. */
  private feed(onText: (text: string) => boolean, text: string): boolean {
    try {
      return onText(text);
    } catch (error) {
      this.abort(error instanceof Error ? error : new Error(String(error)));
      if (!this.settled) this.settle({ ok: false, ...classifyNetworkError(error, this.limits.connectMs), status: this.status, headers: this.headers });
      return false;
    }
  }

  callerAborted(reason: unknown): void {
    this.abort(reason instanceof Error ? reason : new Error(String(reason)));
    this.fail(reason);
  }

  private expire(kind: 'request' | 'idle'): void {
    this.expired ??= kind;
    this.abort(new Error(kind === 'request' ? 'request timeout' : 'stream idle timeout'));
    // A late tail after a whole answer only needed draining; the answer stands.
    if (!this.settled) this.settle(this.timeoutResult(kind));
  }

  private timeoutResult(kind: 'request' | 'idle'): ExchangeResult {
    const reason = kind === 'request' ? `request timeout, ${this.limits.requestMs} ms` : `stream idle for ${this.limits.idleMs} ms`;
    return { ok: false, failure: 'timeout', expired: kind, reason, status: this.status, headers: this.headers };
  }

  private abort(reason: Error): void {
    if (this.finished) return;
    this.clearTimers();
    if (this.controller) this.controller.abort(reason);
    else this.pendingAbort ??= reason;
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.expire('idle'), this.limits.idleMs);
  }

  private clearTimers(): void {
    clearTimeout(this.requestTimer);
    clearTimeout(this.idleTimer);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearTimers();
    if (this.limits.signal) unwatch(this.limits.signal, this);
  }

  private succeed(text: string): void {
    if (this.settled || this.status === undefined || this.headers === undefined) return;
    this.settle({ ok: true, status: this.status, headers: this.headers, text, endedAt: this.endedAt ?? this.limits.now() });
  }

  private settle(result: ExchangeResult): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(result);
  }

  private fail(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(reason);
  }
}
