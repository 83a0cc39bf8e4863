// One request forwarded to one arm's upstream over undici's dispatch API. A streamed 2xx answer goes to the
// client chunk by chunk as it arrives (back-pressure pauses the upstream), and is read on the way for time to
// first token, tokens, finish reason and content. Anything else (an error answer, a non-streamed body) is
// collected whole and handed back unsent, so the caller can still fall back to blue or send it as it is.
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { TextDecoder } from 'node:util';
import type { Dispatcher } from 'undici';
import type { ArmName } from '../plan/plan.js';
import { statusFailure } from '../upstream/attempt.js';
import { classifyNetworkError, parseRateLimit, type HeaderMap } from '../upstream/classify.js';
import type { FailureFacts } from '../upstream/describe.js';
import type { Dialect, DialectReply, StreamReader } from '../upstream/dialect.js';
import { parseJson } from '../upstream/shape.js';
import type { UpstreamResult } from '../upstream/types.js';

/** Where an arm's requests go: its pool, dialect, the headers every request carries (its key among them). */
export interface ForwardTarget {
  arm: ArmName;
  model: string;
  dialect: Dialect;
  dispatcher: Dispatcher;
  /** Scheme, host and port of the upstream (a forward-proxy agent serves several). */
  origin: string;
  /** Path (and query) of the chat endpoint on the pool's origin. */
  chatPath: string;
  /** The dialect's protocol and auth headers plus the plan's headers. */
  headers: Record<string, string>;
  /**
   * The application's body made valid for this arm: its model (the deployment on Azure's v1 path), token
   * field, dropped and set parameters (src/upstream/adapt.ts). Returns a new object.
   */
  prepare(body: Readonly<Record<string, unknown>>): Record<string, unknown>;
  timeouts: { requestMs: number; idleMs: number; connectMs: number };
}

export interface ForwardRequest {
  /** The body to send, model already rewritten. */
  body: string;
  stream: boolean;
  /** Headers from the application worth passing on (protocol versions, betas); never its key. */
  headers: Record<string, string>;
}

/** The client's response, written to only for a streamed 2xx answer. */
export interface ClientSink {
  /** Once, with the first body bytes: the status and headers to send. */
  begin(status: number, headers: HeaderMap): void;
  /** False when the client's buffer is full; `drained` is then called once it empties. */
  write(chunk: Buffer, drained: () => void): boolean;
  end(): void;
  /** The upstream broke after bytes were sent: end the client's response so it sees a failure, not an answer. */
  cut(): void;
}

export interface UnsentResponse {
  status: number;
  headers: HeaderMap;
  body: Buffer;
}

export interface ForwardOutcome {
  result: UpstreamResult;
  /** Bytes went to the client: the answer is given, whatever happened after. */
  committed: boolean;
  /** An answer that came back whole and was not sent: an error answer or a non-streamed body. */
  response?: UnsentResponse;
}

type Failure = FailureFacts & { failure: NonNullable<FailureFacts['failure']> };

/** Rejects only when `signal` aborts (the client went away), with the signal's reason. */
export function forward(
  target: ForwardTarget,
  request: ForwardRequest,
  sink: ClientSink | undefined,
  now: () => number,
  signal?: AbortSignal,
): Promise<ForwardOutcome> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => new Forwarding(target, request, sink, now, signal, resolve, reject).start());
}

class Forwarding implements Dispatcher.DispatchHandler {
  private readonly startedAt: number;
  private controller?: Dispatcher.DispatchController;
  private pendingAbort?: Error;
  private settled = false;
  private finished = false;
  private expired?: 'request' | 'idle';
  private status?: number;
  private headers?: HeaderMap;
  /** Collected body (error answers, non-streamed bodies). */
  private chunks?: Buffer[];
  /** Passing a streamed 2xx body to the client. */
  private passing = false;
  private committed = false;
  /** Body bytes of a 2xx stream arrived. */
  private sawData = false;
  private decoder?: TextDecoder;
  private parser?: EventSourceParser;
  private reader?: StreamReader;
  private streamDone = false;
  private streamError?: string;
  private firstTokenAt?: number;
  private requestTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private readonly onAbort = (): void => {
    this.abort(new Error('client went away'));
    this.fail(this.signal?.reason);
  };

  constructor(
    private readonly target: ForwardTarget,
    private readonly request: ForwardRequest,
    private readonly sink: ClientSink | undefined,
    private readonly now: () => number,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: (outcome: ForwardOutcome) => void,
    private readonly reject: (reason: unknown) => void,
  ) {
    this.startedAt = now();
  }

  start(): void {
    const { target, request } = this;
    this.requestTimer = setTimeout(() => this.expire('request'), target.timeouts.requestMs);
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    try {
      target.dispatcher.dispatch(
        {
          origin: target.origin,
          method: 'POST',
          path: target.chatPath,
          // The target's headers last: the application can never override the upstream key.
          headers: {
            ...request.headers,
            'content-type': 'application/json',
            accept: request.stream ? 'text/event-stream' : 'application/json',
            ...target.headers,
          },
          body: request.body,
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
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
    // A 2xx stream is read as it arrives (for TTFT), and passed to the client when there is one.
    if (statusCode < 300 && this.request.stream) {
      this.passing = true;
      this.decoder = new TextDecoder();
      this.reader = this.target.dialect.streamReader();
      this.parser = createParser({ onEvent: (event) => this.onEvent(event) });
      this.armIdle();
    } else {
      this.chunks = [];
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks) {
      this.chunks.push(chunk);
      return;
    }
    if (!this.passing || this.settled) return;
    this.armIdle();
    this.sawData = true;
    const sink = this.sink;
    if (sink) {
      if (!this.committed) {
        // Held until the first body bytes: a stream that dies before them can still be answered by blue.
        this.committed = true;
        sink.begin(this.status as number, this.headers as HeaderMap);
      }
      const drained = (): void => {
        if (this.finished) return;
        this.armIdle();
        controller.resume();
      };
      if (!sink.write(chunk, drained)) {
        // A slow client holds the upstream back; that silence is ours, not the upstream's idling.
        clearTimeout(this.idleTimer);
        controller.pause();
      }
    }
    this.parser?.feed((this.decoder as TextDecoder).decode(chunk, { stream: true }));
  }

  onResponseEnd(): void {
    this.finish();
    if (this.settled) return;
    if (this.passing) return this.endStream();
    const chunks = this.chunks ?? [];
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    this.settleCollected(body);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.finish();
    if (this.settled) return;
    if (this.signal?.aborted) return this.fail(this.signal.reason);
    this.broke(this.expired ? this.timeoutFacts(this.expired) : { ...classifyNetworkError(error, this.target.timeouts.connectMs), status: this.status });
  }

  /** The exchange failed without a whole answer: cut the client if bytes went out, settle as a failure. */
  private broke(facts: Failure): void {
    if (this.settled) return;
    if (this.committed) this.sink?.cut();
    this.settle({ result: this.failed(facts), committed: this.committed });
  }

  private timeoutFacts(kind: 'request' | 'idle'): Failure {
    const reason = kind === 'request' ? `request timeout, ${this.target.timeouts.requestMs} ms` : `stream idle for ${this.target.timeouts.idleMs} ms`;
    return { failure: 'timeout', expired: kind, reason, status: this.status };
  }

  // --- reading the passing stream -------------------------------------------------------------------------

  private onEvent(event: Parameters<StreamReader['event']>[0]): void {
    if (this.streamDone || this.streamError !== undefined || !this.reader) return;
    const step = this.reader.event(event);
    if (step.delta && this.firstTokenAt === undefined) this.firstTokenAt = this.now();
    if (step.error !== undefined) this.streamError = step.error;
    if (step.done) this.streamDone = true;
  }

  private endStream(): void {
    if (!this.sawData) {
      // 2xx with an empty body: nothing reached the client, so it is a failure blue may still answer.
      return this.settle({ result: this.failed({ failure: 'bad_response', status: this.status, reason: 'the stream was empty' }), committed: false });
    }
    this.sink?.end();
    if (!this.streamDone && this.streamError === undefined) this.parser?.feed('\n\n');
    if (this.streamError !== undefined)
      return this.settle({ result: this.failed({ failure: 'bad_response', status: this.status, reason: this.streamError }), committed: this.committed });
    const parsed = (this.reader as StreamReader).finish();
    if (!parsed.ok)
      return this.settle({ result: this.failed({ failure: 'bad_response', status: this.status, reason: parsed.reason }), committed: this.committed });
    this.settle({ result: this.succeeded(parsed.reply), committed: this.committed });
  }

  private settleCollected(body: Buffer): void {
    const status = this.status as number;
    const headers = this.headers as HeaderMap;
    const response: UnsentResponse = { status, headers, body };
    if (status < 200 || status >= 300) {
      const facts = statusFailure(status, headers, body.toString('utf8')) as Failure;
      return this.settle({ result: this.failed(facts), committed: false, response });
    }
    const json = parseJson(body.toString('utf8'));
    const parsed = json.ok ? this.target.dialect.parse(json.value) : { ok: false as const, reason: 'the body is not JSON' };
    const result = parsed.ok ? this.succeeded(parsed.reply) : this.failed({ failure: 'bad_response', status, reason: parsed.reason });
    this.settle({ result, committed: false, response });
  }

  // --- results --------------------------------------------------------------------------------------------

  private base(ok: boolean): UpstreamResult {
    const result: UpstreamResult = {
      arm: this.target.arm,
      model: this.target.model,
      stream: this.request.stream,
      attempts: 1,
      ok,
      content: '',
      latencyMs: this.now() - this.startedAt,
    };
    if (this.status !== undefined) result.status = this.status;
    const rateLimit = parseRateLimit(this.headers);
    if (rateLimit) result.rateLimit = rateLimit;
    return result;
  }

  private succeeded(reply: DialectReply): UpstreamResult {
    const result = this.base(true);
    result.content = reply.content;
    if (reply.servedModel !== undefined) result.servedModel = reply.servedModel;
    if (reply.finishReason !== undefined) result.finishReason = reply.finishReason;
    if (reply.usage) result.usage = reply.usage;
    if (this.firstTokenAt !== undefined) result.ttftMs = this.firstTokenAt - this.startedAt;
    return result;
  }

  private failed(facts: Failure): UpstreamResult {
    const result = this.base(false);
    result.failure = facts.failure;
    // Short and key-free: the cause, never a body (an auth error may quote part of the key).
    result.errorMessage = `${this.target.arm} arm: ${facts.status !== undefined ? `${facts.status} ` : ''}${facts.failure}${facts.reason ? ` (${facts.reason})` : ''}`;
    return result;
  }

  // --- our side -------------------------------------------------------------------------------------------

  private expire(kind: 'request' | 'idle'): void {
    this.expired ??= kind;
    this.abort(new Error(kind === 'request' ? 'request timeout' : 'stream idle timeout'));
    // Settled now, not when undici reports the abort: a connect still pending would report it much later.
    this.broke(this.timeoutFacts(kind));
  }

  private abort(reason: Error): void {
    if (this.finished) return;
    this.clearTimers();
    if (this.controller) this.controller.abort(reason);
    else this.pendingAbort ??= reason;
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.expire('idle'), this.target.timeouts.idleMs);
  }

  private clearTimers(): void {
    clearTimeout(this.requestTimer);
    clearTimeout(this.idleTimer);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearTimers();
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  private settle(outcome: ForwardOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(outcome);
  }

  private fail(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.finish();
    this.reject(reason);
  }
}
