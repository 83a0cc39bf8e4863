// One request forwarded to one arm's upstream over undici's dispatch API. A streamed 2xx answer goes to the
// client chunk by chunk as it arrives (back-pressure pauses the upstream), and is read on the way for time to
// first token, tokens, finish reason and content. Anything else (an error answer, a non-streamed body) is
// collected whole and handed back unsent, so the caller can still fall back to blue or send it as it is.
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ArmName } from '../plan/plan.js';
import { statusFailure } from '../upstream/attempt.js';
import { classifyNetworkError, header, parseRateLimit, type HeaderMap } from '../upstream/classify.js';
import type { FailureFacts } from '../upstream/describe.js';
import type { Dialect, DialectReply, StreamReader } from '../upstream/dialect.js';
import { TimedDispatch, type CancelSource } from '../upstream/dispatch.js';
import { parseJson } from '../upstream/shape.js';
import type { UpstreamResult } from '../upstream/types.js';
import { StreamWatch } from './stream-watch.js';

/** Where an arm's requests go: its pool, dialect, the headers every request carries (its key among them). */
export interface ForwardTarget {
  arm: ArmName;
  model: string;
  dialect: Dialect;
  /** A reader for one of this upstream's streams (the readers share what they learn of its spelling). */
  streamReader: () => StreamReader;
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
  /** The model name the arm's request bodies carry. */
  bodyModel: string;
  /** The arm's adaptation leaves this body as it is but for `model` (so it need not be re-serialised). */
  keepsBody(body: Readonly<Record<string, unknown>>): boolean;
  /**
   * requestMs bounds a streamed 2xx answer until its first body bytes only (a non-streamed or error answer
   * whole); idleMs each silence of a stream after them.
   */
  timeouts: { requestMs: number; idleMs: number; connectMs: number };
  /** Largest answer read whole (an error answer, a non-streamed body); larger ones fail as bad_response. */
  maxResponseBytes: number;
  /** Longest a streamed 2xx answer may go on after its first body bytes (proxy.limits.max_stream_duration). */
  maxStreamMs: number;
}

export interface ForwardRequest {
  /** The body to send, model already rewritten. */
  body: string | Buffer;
  stream: boolean;
  /** Headers from the application worth passing on (protocol versions, betas); never its key. */
  headers: Record<string, string>;
  /**
   * Blue can still answer: a stream whose first chunk already carries an error event fails before anything is
   * sent, rather than passing the error on.
   */
  canFallBack?: boolean;
  /** Another path on the target's pool than its chat path (a relayed request, src/proxy/relay.ts). */
  path?: string;
  /** A 2xx answer passes to the client as it arrives, streamed or not, and is not read (it is no chat answer). */
  unread?: boolean;
}

/** The client's response, written to only for a streamed 2xx answer. */
export interface ClientSink {
  /** Once, with the first body bytes: the status and headers to send. */
  begin(status: number, headers: HeaderMap): void;
  /** False when the client's buffer is full; `waiter.drained()` is then called once it empties. */
  write(chunk: Buffer, waiter: { drained(): void }): boolean;
  end(): void;
  /** The upstream broke after bytes were sent: end the client's response so it sees a failure, not an answer. */
  cut(): void;
  /** A whole answer (a non-streamed 2xx body no fallback can replace), sent as it is but for any upstream key. */
  whole(response: UnsentResponse): void;
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
  /**
   * An answer that came back whole and was not sent: an error answer, or a non-streamed body blue may still
   * replace. A non-streamed 2xx body no fallback can replace is sent before it is read (committed).
   */
  response?: UnsentResponse;
}

type Failure = FailureFacts & { failure: NonNullable<FailureFacts['failure']> };

/**
 * The client's side of one request: its going away cancels whatever runs upstream for it at that moment. A
 * plain object rather than an AbortController, which costs an EventTarget and a listener per request.
 */
export class ClientLink implements CancelSource {
  aborted = false;
  reason: unknown = undefined;
  /** The forwarding running for this client now, if any. */
  current?: { cancel(reason: unknown): void };

  gone(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.current?.cancel(reason);
  }

  /** Goes when the client's response closes unfinished: the client went away. */
  follow(res: ServerResponse): void {
    res.once('close', () => {
      if (!res.writableFinished) this.gone(new Error('the client went away'));
    });
  }
}

/** Rejects only when `canceller` cancels it (the client went away, the proxy shuts down), with its reason. */
export function forward(
  target: ForwardTarget,
  request: ForwardRequest,
  sink: ClientSink | undefined,
  now: () => number,
  canceller?: AbortSignal | ClientLink,
): Promise<ForwardOutcome> {
  return new Promise((resolve, reject) => forwardTo(target, request, sink, now, canceller, resolve, reject));
}

/** forward() without a promise, for the proxy's hot path: `done`, or `failed` when `canceller` cancels it. */
export function forwardTo(
  target: ForwardTarget,
  request: ForwardRequest,
  sink: ClientSink | undefined,
  now: () => number,
  canceller: AbortSignal | ClientLink | undefined,
  done: (outcome: ForwardOutcome) => void,
  failed: (reason: unknown) => void,
): void {
  const forwarding = new Forwarding(target, request, sink, now, canceller);
  // The content type and accept are the proxy's; the target's headers last: the application can never
  // override the upstream key.
  const headers: Record<string, string> = Object.assign({}, request.headers, request.stream ? STREAM_HEADERS : JSON_HEADERS, target.headers);
  forwarding.start(
    target.dispatcher,
    { origin: target.origin, method: 'POST', path: request.path ?? target.chatPath, headers, body: request.body },
    done,
    failed,
  );
}

/** The answer says it is JSON (application/json, or a +json type): not the event stream a streamed request wants. */
function isJsonAnswer(headers: HeaderMap): boolean {
  const type = header(headers, 'content-type');
  if (type === undefined) return false;
  const media = type.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return media === 'application/json' || media.endsWith('+json');
}

/** What reads a 2xx answer on its way to the client: a StreamWatch, or UNREAD for an answer passed unread. */
type AnswerReading = Pick<StreamWatch, 'feed' | 'failure' | 'end' | 'firstTokenAt'>;

const UNREAD: AnswerReading = Object.freeze({
  feed: () => undefined,
  failure: undefined,
  end: () => ({ ok: true as const, reply: { content: '' } }),
  firstTokenAt: undefined,
});

const STREAM_HEADERS = { 'content-type': 'application/json', accept: 'text/event-stream' };
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

class Forwarding extends TimedDispatch<ForwardOutcome> {
  private readonly startedAt: number;
  /** Collected body (error answers, non-streamed bodies) and its size so far. */
  private chunks?: Buffer[];
  private size = 0;
  /** Watching a streamed 2xx body on its way to the client (UNREAD: passing any 2xx body unread). */
  private watch?: AnswerReading;
  private committed = false;
  /** Body bytes of a 2xx stream arrived. */
  private sawData = false;
  /** The client's buffer is full and the upstream paused for it: time passing now is the client's. */
  private heldByClient = false;
  /** Chunks already written to the client and not yet read (reading waits until the write went out). */
  private unread?: Buffer[];

  constructor(
    private readonly target: ForwardTarget,
    private readonly request: ForwardRequest,
    private readonly sink: ClientSink | undefined,
    private readonly now: () => number,
    private readonly link: AbortSignal | ClientLink | undefined,
  ) {
    super(target.timeouts, link);
    this.startedAt = now();
    if (link instanceof ClientLink) link.current = this;
  }

  // --- undici handler -------------------------------------------------------------------------------------

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: HeaderMap): void {
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
    // A 2xx stream is read as it arrives (for TTFT), and passed to the client when there is one. A JSON answer to
    // a streamed request is collected instead: no stream, so a failure blue may still answer (settleCollected).
    if (statusCode < 300 && this.request.unread) {
      this.watch = UNREAD;
      this.armIdle();
    } else if (statusCode < 300 && this.request.stream && !isJsonAnswer(headers)) {
      this.watch = new StreamWatch(this.target.streamReader(), this.now, this.target.maxResponseBytes);
      this.armIdle();
    } else {
      this.chunks = [];
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks) {
      this.size += chunk.length;
      if (this.size > this.target.maxResponseBytes) {
        // Not read on into memory: the answer fails as too large (blue may still answer for green).
        this.chunks = undefined;
        // Settled first: the abort reports back at once as a connection error.
        this.broke({
          failure: 'bad_response',
          status: this.status,
          reason: `the answer is larger than ${this.target.maxResponseBytes} bytes, proxy.limits.max_response_bytes`,
        });
        this.abort(new Error('answer too large'));
        return;
      }
      this.chunks.push(chunk);
      return;
    }
    const watch = this.watch;
    if (!watch || this.settled) return;
    this.armIdle();
    if (!this.sawData) this.streamBegan();
    const sink = this.sink;
    if (!sink) return watch.feed(chunk);
    let read = false;
    if (!this.committed) {
      if (this.request.canFallBack) {
        // Read before anything is sent (no delay: the same chunk): an error event in it is a failure blue answers.
        watch.feed(chunk);
        read = true;
        if (watch.failure !== undefined) {
          this.broke({ failure: 'bad_response', status: this.status, reason: watch.failure });
          this.abort(new Error('the stream began with an error'));
          return;
        }
      }
      // Held until the first body bytes: a stream that dies before them can still be answered by blue.
      this.committed = true;
      sink.begin(this.status as number, this.headers as HeaderMap);
    }
    const written = sink.write(chunk, this);
    if (!read && watch !== UNREAD) this.readAfterWrite(chunk);
    if (!written) {
      // The idle timer runs on: a client that reads nothing for that long is cut (timedOut: its abort, not the arm's).
      this.heldByClient = true;
      controller.pause();
    }
  }

  /**
   * Node sends a response's writes at the end of the current tick (process.nextTick): a chunk is read in a
   * microtask, which runs after that, so reading it never delays its bytes. Chunks keep their order; the end of
   * the stream reads what is left first.
   */
  private readAfterWrite(chunk: Buffer): void {
    if (this.unread) {
      this.unread.push(chunk);
      return;
    }
    this.unread = [chunk];
    queueMicrotask(() => this.readUnread());
  }

  private readUnread(): void {
    const chunks = this.unread;
    if (!chunks || !this.watch) return;
    this.unread = undefined;
    for (const chunk of chunks) this.watch.feed(chunk);
  }

  /** The client's buffer emptied (ClientSink.write's `drained`): the upstream may send again. */
  drained(): void {
    this.heldByClient = false;
    if (this.finished) return;
    this.armIdle();
    this.controller?.resume();
  }

  onResponseEnd(): void {
    this.finish();
    if (this.settled) return;
    if (this.watch) return this.endStream(this.watch);
    const chunks = this.chunks ?? [];
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    this.settleCollected(body);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.finish();
    if (this.settled) return;
    if (this.link?.aborted) return this.fail(this.link.reason);
    // Our timer's abort may report here before timedOut runs.
    if (this.expired) return this.timedOut(this.expired);
    this.broke({ ...classifyNetworkError(error, this.target.timeouts.connectMs), status: this.status });
  }

  protected override detached(): void {
    if (this.link instanceof ClientLink && this.link.current === this) this.link.current = undefined;
  }

  /**
   * A stream's first body bytes arrived: a long answer that keeps coming is not cut by the request timeout
   * (meant for the wait before it); from here the idle timeout bounds each silence, max_stream_duration the rest.
   */
  private streamBegan(): void {
    this.sawData = true;
    this.restartRequestTimer(this.target.maxStreamMs);
  }

  protected override timeoutReason(kind: 'request' | 'idle'): string {
    if (kind === 'request' && this.sawData) return `stream went on past ${this.target.maxStreamMs} ms, proxy.limits.max_stream_duration`;
    return super.timeoutReason(kind);
  }

  /**
   * The client went away. After an error event already passed to it, that is the arm's failure: the SDKs throw
   * on such an event and close the connection, which must not turn the arm's error into a client abort.
   */
  override cancel(reason: unknown): void {
    if (this.streamError === undefined) return super.cancel(reason);
    // Settled first: the abort may report back at once, as the client's.
    this.broke({ failure: 'bad_response', status: this.status });
    this.abort(reason instanceof Error ? reason : new Error(String(reason)));
  }

  /** The error event a stream already passed to the client carried, if any. */
  private get streamError(): string | undefined {
    return this.committed ? this.watch?.failure : undefined;
  }

  protected timedOut(kind: 'request' | 'idle'): void {
    if (this.heldByClient && this.streamError === undefined) {
      // The client stopped reading: ended like a client that went away, not counted against the arm (a client
      // choosing its arm by sticky id could otherwise run up green's timeouts).
      this.sink?.cut();
      return this.fail(new Error('the client stopped reading the answer'));
    }
    this.broke(this.timeoutFacts(kind));
  }

  /**
   * The exchange failed without a whole answer: cut the client if bytes went out, settle as a failure (a
   * bad_response when the stream had already carried an error event, whatever ended it after).
   */
  private broke(facts: Failure): void {
    if (this.settled) return;
    if (this.committed) this.sink?.cut();
    const error = this.streamError;
    const cause: Failure = error === undefined ? facts : { failure: 'bad_response', status: this.status, reason: error };
    this.settle({ result: this.failed(cause), committed: this.committed });
  }

  private timeoutFacts(kind: 'request' | 'idle'): Failure {
    return { failure: 'timeout', expired: kind, reason: this.timeoutReason(kind), status: this.status };
  }

  private endStream(watch: AnswerReading): void {
    if (!this.sawData && watch === UNREAD && this.sink) {
      // An empty 2xx answer passed unread is still the answer (a 204, say).
      this.committed = true;
      this.sink.begin(this.status as number, this.headers as HeaderMap);
    }
    if (!this.sawData && !this.committed) {
      // 2xx with an empty body: nothing reached the client, so it is a failure blue may still answer.
      return this.settle({ result: this.failed({ failure: 'bad_response', status: this.status, reason: 'the stream was empty' }), committed: false });
    }
    this.sink?.end();
    this.readUnread();
    const parsed = watch.end();
    const result = parsed.ok
      ? this.succeeded(parsed.reply, watch.firstTokenAt)
      : this.failed({ failure: 'bad_response', status: this.status, reason: parsed.reason });
    this.settle({ result, committed: this.committed });
  }

  private settleCollected(body: Buffer): void {
    const status = this.status as number;
    const headers = this.headers as HeaderMap;
    const response: UnsentResponse = { status, headers, body };
    if (status < 200 || status >= 300) {
      const facts = statusFailure(status, headers, body.toString('utf8')) as Failure;
      return this.settle({ result: this.failed(facts), committed: false, response });
    }
    if (this.request.stream) {
      // The client asked for a stream and cannot read this answer as one (SDKs fail on it): the arm's failure.
      const reason = `answered a streamed request with ${header(headers, 'content-type') ?? 'JSON'}, not an event stream`;
      return this.settle({ result: this.failed({ failure: 'bad_response', status, reason }), committed: false, response });
    }
    // No fallback can replace this answer: the client gets it as it is now, and it is read after.
    const final = this.sink !== undefined && !this.request.canFallBack;
    if (final) this.sink?.whole(response);
    const json = parseJson(body.toString('utf8'));
    const parsed = json.ok ? this.target.dialect.parse(json.value) : { ok: false as const, reason: 'the body is not JSON' };
    const result = parsed.ok ? this.succeeded(parsed.reply, undefined) : this.failed({ failure: 'bad_response', status, reason: parsed.reason });
    this.settle(final ? { result, committed: true } : { result, committed: false, response });
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

  private succeeded(reply: DialectReply, firstTokenAt: number | undefined): UpstreamResult {
    const result = this.base(true);
    result.content = reply.content;
    if (reply.servedModel !== undefined) result.servedModel = reply.servedModel;
    if (reply.finishReason !== undefined) result.finishReason = reply.finishReason;
    if (reply.usage) result.usage = reply.usage;
    if (firstTokenAt !== undefined) result.ttftMs = firstTokenAt - this.startedAt;
    return result;
  }

  private failed(facts: Failure): UpstreamResult {
    const result = this.base(false);
    result.failure = facts.failure;
    // Short and key-free: the cause, never a body (an auth error may quote part of the key).
    result.errorMessage = `${this.target.arm} arm: ${facts.status !== undefined ? `${facts.status} ` : ''}${facts.failure}${facts.reason ? ` (${facts.reason})` : ''}`;
    return result;
  }
}
