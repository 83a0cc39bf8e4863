// One HTTP exchange over undici with our own timers, so a timeout can be told apart from a dead connection.
// The hot path of every generated request: the handler skeleton (timers, cancel, settling) is ./dispatch.ts.
import { TextDecoder } from 'node:util';
import type { Dispatcher } from 'undici';
import { charsAfterLineBreak, MAX_ANSWER_BYTES } from './answer-limit.js';
import { classifyNetworkError, type HeaderMap } from './classify.js';
import { TimedDispatch, type DispatchRequest } from './dispatch.js';
import type { SignalWatch } from './signal-watch.js';
import type { FailureClass } from './types.js';

export type ExchangeRequest = DispatchRequest;

export interface ExchangeLimits {
  /** The whole exchange, body included. */
  requestMs: number;
  /** Longest silence between chunks of a streamed 2xx body. */
  idleMs: number;
  /** Only for the message when the connect times out (the dispatcher enforces it). */
  connectMs: number;
  /** A steady clock (steadyNow): endedAt, and a stream's first token, are read on it to measure latencies. */
  steadyNow: () => number;
  /** Its signal aborting makes exchange reject with the signal's reason. */
  cancel?: SignalWatch;
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
  return new Exchange(limits).run(dispatcher, request);
}

class Exchange extends TimedDispatch<ExchangeResult> {
  private chunks?: Buffer[];
  /** Bytes collected so far (a body read whole). */
  private size = 0;
  private decoder?: TextDecoder;
  /** Characters of a streamed body since its last line break: the stream's parser holds them until the line ends. */
  private pending = 0;
  private endedAt?: number;

  constructor(private readonly limits: ExchangeLimits) {
    super(limits, limits.cancel);
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
      this.size += chunk.length;
      if (this.size > MAX_ANSWER_BYTES) return this.tooLarge(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`);
      this.chunks.push(chunk);
      return;
    }
    if (!this.decoder || !this.limits.onText) return;
    this.armIdle();
    if (this.endedAt !== undefined) return;
    const text = this.decoder.decode(chunk, { stream: true });
    const after = charsAfterLineBreak(text);
    this.pending = after < 0 ? this.pending + text.length : after;
    if (this.pending > MAX_ANSWER_BYTES) return this.tooLarge(`a stream line is longer than ${MAX_ANSWER_BYTES} characters`);
    if (this.feed(this.limits.onText, text)) {
      this.endedAt = this.limits.steadyNow();
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
    if (limits.cancel?.aborted) return this.fail(limits.cancel.reason);
    if (this.expired) return this.settle(this.timeoutResult(this.expired));
    this.settle({ ok: false, ...classifyNetworkError(error, limits.connectMs), status: this.status, headers: this.headers });
  }

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

  /** More than any answer holds: not read on into memory, the answer is a bad one (settled first: the abort reports back at once). */
  private tooLarge(reason: string): void {
    this.chunks = undefined;
    this.settle({ ok: false, failure: 'bad_response', reason: `${reason}: the rest was not read`, status: this.status, headers: this.headers });
    this.abort(new Error('answer too large'));
  }

  protected timedOut(kind: 'request' | 'idle'): void {
    // A late tail after a whole answer only needed draining; the answer stands.
    if (!this.settled) this.settle(this.timeoutResult(kind));
  }

  private timeoutResult(kind: 'request' | 'idle'): ExchangeResult {
    return { ok: false, failure: 'timeout', expired: kind, reason: this.timeoutReason(kind), status: this.status, headers: this.headers };
  }

  private succeed(text: string): void {
    if (this.settled || this.status === undefined || this.headers === undefined) return;
    this.settle({ ok: true, status: this.status, headers: this.headers, text, endedAt: this.endedAt ?? this.limits.steadyNow() });
  }
}
