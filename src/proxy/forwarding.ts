// The undici handler of one forwarded request (forward.ts starts it): a streamed 2xx answer goes to the client
// chunk by chunk as it arrives (back-pressure pauses the upstream) and is read on the way; anything else is
// collected whole and handed back unsent, so the caller can still fall back to blue or send it as it is (what
// such an answer means: collected.ts).
import { formatDuration } from '../core/format.js';
import type { Dispatcher } from 'undici';
import { classifyNetworkError, isJsonAnswer, type HeaderMap } from '../upstream/classify.js';
import type { DialectReply } from '../upstream/dialect.js';
import { TimedDispatch } from '../upstream/dispatch.js';
import type { SignalWatch } from '../upstream/signal-watch.js';
import type { UpstreamResult } from '../upstream/types.js';
import { AnswerDecoder, answerEncoding, decodedHeaders, undecodedReason, type DecodedReader, type Pausable } from './answer-encoding.js';
import { ClientLink } from './client-link.js';
import { answerText } from './answer-text.js';
import { collectedFailure, readCollected, tooLargeReason } from './collected.js';
import { FirstEventHold, NO_CHUNKS } from './first-event-hold.js';
import { failedResult, succeededResult, type Exchange, type ForwardFailure as Failure } from './forward-result.js';
import type { ClientSink, ForwardOutcome, ForwardRequest, ForwardTarget, UnsentResponse } from './forward-types.js';
import { StreamWatch, UNREAD, type AnswerReading } from './stream-watch.js';

/** The most of a green stream's opening held while blue can answer (holdsOpening). */
const MAX_OPENING_BYTES = 64 * 1024;
// A stream's work asked for during one turn of the event loop (Forwarding.timersLater), as bits: its timers, and
// reading the chunks written.
const IDLE_DUE = 1;
const STREAM_DUE = 2;
const READ_DUE = 4;

function runDueTimers(forwarding: Forwarding): void {
  forwarding.runDueTimers();
}

function releaseOpening(forwarding: Forwarding): void {
  forwarding.releaseOpening();
}

export class Forwarding extends TimedDispatch<ForwardOutcome> implements DecodedReader {
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
  /** A green stream's start, held until its first event is whole while blue can still answer (first-event-hold.ts). */
  private firstEvent?: FirstEventHold;
  /**
   * A green stream's chunks from its first event on, held while they carry no output (a chat stream's role-only
   * first chunk, `delta: { role: 'assistant', content: '' }`) and blue can answer: a failure right after them (an
   * error chunk, a cut, a silence) still falls back. Timed and counted as sent (the idle timer runs, a client
   * leaving is no unanswered abort), as blue's same chunks are, which go out at once.
   */
  private opening?: Buffer[];
  private openingSize = 0;
  /**
   * A stream whose format opens with leading events (the Responses API's response.created, response.in_progress;
   * Anthropic's message_start), until its first output: the model may think for tens of seconds after them, a wait
   * upstream.timeout.request bounds as it does a chat stream's before its first byte, not upstream.timeout.idle.
   */
  private awaitingOutput?: FirstEventHold;
  /** The stream's work due on the next tick (IDLE_DUE, STREAM_DUE, READ_DUE): see timersLater. */
  private timersDue = 0;
  /**
   * Bounds the hold of a green stream's start (firstEvent, then opening) to target.openingHoldMs from its first body
   * bytes: a reasoning model's role chunk may be followed by minutes of thought, in which the client would have no
   * headers from green (a load balancer's time-to-first-byte limit would cut green only). Made once per stream held.
   */
  private holdTimer?: NodeJS.Timeout;
  /** Decodes an answer its upstream encoded though asked for identity (answer-encoding.ts); none for nearly all. */
  private decoder?: AnswerDecoder;

  constructor(
    private readonly target: ForwardTarget,
    private readonly request: ForwardRequest,
    private readonly sink: ClientSink | undefined,
    /** Latencies are timed on it (ChatContext.steadyNow). */
    private readonly steadyNow: () => number,
    private readonly link: SignalWatch | ClientLink | undefined,
  ) {
    super(target.timeouts, link, target.requestTimers);
    this.startedAt = steadyNow();
    if (link instanceof ClientLink) link.current = this;
  }

  // --- undici handler -------------------------------------------------------------------------------------

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: HeaderMap): void {
    if (statusCode < 200) return;
    this.status = statusCode;
    const encoding = answerEncoding(statusCode, headers);
    if (encoding !== undefined) {
      this.decoder = AnswerDecoder.for(encoding, controller, this);
      if (this.decoder === undefined) {
        // Not read, so neither judged nor redacted: the arm's failure (blue may still answer for green).
        this.broke({ failure: 'bad_response', status: statusCode, reason: undecodedReason(encoding) });
        this.abort(new Error('an answer the proxy cannot decode'));
        return;
      }
      headers = decodedHeaders(headers);
    }
    this.headers = headers;
    // A 2xx stream is read as it arrives (for TTFT), and passed to the client when there is one. A JSON answer to
    // a streamed request is collected instead: no stream, so a failure blue may still answer (settleCollected).
    if (statusCode < 300 && this.request.unread) {
      this.watch = UNREAD;
      this.timersLater(IDLE_DUE);
    } else if (statusCode < 300 && this.request.stream && !isJsonAnswer(headers)) {
      this.watch = new StreamWatch(this.target.streamReader, this.steadyNow, this.target.maxResponseBytes, this.request.onResponseId);
      const leading = this.target.leadingEvents;
      if (leading) this.awaitingOutput = new FirstEventHold(this.target.maxResponseBytes, leading);
      else this.timersLater(IDLE_DUE);
    } else {
      this.chunks = [];
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.decoder !== undefined) this.decoder.write(chunk);
    else this.answerData(controller, chunk);
  }

  /** The answer's bytes (decoded, when its upstream encoded them): `source` pauses them. */
  answerData(source: Pausable, chunk: Buffer): void {
    if (this.chunks) {
      this.size += chunk.length;
      if (this.size > this.target.maxResponseBytes) {
        // Not read on into memory: the answer fails as too large (blue may still answer for green).
        this.chunks = undefined;
        // Settled first: the abort reports back at once as a connection error.
        this.broke({ failure: 'bad_response', status: this.status, reason: tooLargeReason(this.target.maxResponseBytes) });
        this.abort(new Error('answer too large'));
        return;
      }
      this.chunks.push(chunk);
      return;
    }
    const watch = this.watch;
    if (!watch || this.settled) return;
    const output = !this.stillAwaitingOutput(chunk);
    const sink = this.sink;
    // While blue can answer, the stream's start waits with the headers until its first event is whole (an error
    // event split over chunks falls back too); it is not the first body bytes: the request timer still runs.
    if (!this.committed && this.opening === undefined && this.request.canFallBack && sink && this.holdsFirstEvent(chunk)) {
      this.holdTimer ??= setTimeout(releaseOpening, this.target.openingHoldMs, this);
      if (output) this.timersLater(IDLE_DUE);
      return;
    }
    if (!sink) {
      if (output) this.timersLater(IDLE_DUE);
      if (!this.sawData) this.streamBegan();
      return watch.feed(chunk);
    }
    // The stream's timers are restarted, and the chunk read, on the next tick, once this turn's writes are sent
    // (timersLater). A failure below settles, and nothing is restarted or read then.
    const began = !this.sawData;
    this.sawData = true;
    let read = false;
    if (!this.committed) {
      const held = this.firstEvent?.held() ?? NO_CHUNKS;
      if (this.request.canFallBack) {
        // Read before anything is sent (no delay: the same chunk): an error event in it, or a terminator ending
        // no answer (`data: [DONE]` alone), is a failure blue answers.
        if (this.opening === undefined) for (const comment of held) watch.feed(comment);
        watch.feed(chunk);
        read = true;
        const failure = watch.failure ?? watch.endedBadly();
        if (failure !== undefined) {
          this.broke({ failure: 'bad_response', status: this.status, reason: failure });
          this.abort(new Error('the stream began with an error'));
          return;
        }
        if (this.holdsOpening(watch, held, chunk)) {
          this.holdTimer ??= setTimeout(releaseOpening, this.target.openingHoldMs, this);
          if (began) this.streamBegan();
          if (output) this.timersLater(IDLE_DUE);
          return;
        }
      }
      // Held until the first body bytes: a stream that dies before them can still be answered by blue.
      this.commitHeld(sink, held);
    }
    const written = sink.write(chunk, this);
    if (began) this.streamBegan();
    if (output) this.timersLater(IDLE_DUE);
    if (!read) {
      watch.feedAfterWrite(chunk);
      this.timersLater(READ_DUE);
    }
    if (!written) {
      // The idle timer runs on: a client that reads nothing for that long is cut (timedOut: its abort, not the arm's).
      this.heldByClient = true;
      source.pause();
    }
  }

  /** True while a stream that opens with leading events has not begun its output (this chunk included). */
  private stillAwaitingOutput(chunk: Buffer): boolean {
    const scan = this.awaitingOutput;
    if (scan === undefined) return false;
    if (!scan.completes(chunk)) return true;
    this.awaitingOutput = undefined;
    // The leading events were the first body bytes: the stream's own limit starts with its output.
    if (this.sawData) this.restartRequestTimer(this.target.maxStreamMs);
    return false;
  }

  /**
   * Holds `chunk` with the stream's opening while nothing read so far is output, within MAX_OPENING_BYTES: an
   * opening is a role chunk and a few filter results, and a stream whose output the reader does not know (a new
   * event kind) must not wait for its end, nor hold a whole answer per request in memory.
   */
  private holdsOpening(watch: AnswerReading, held: readonly Buffer[], chunk: Buffer): boolean {
    const room = Math.min(MAX_OPENING_BYTES, this.target.maxResponseBytes);
    if (watch.firstTokenAt !== undefined || watch.ended || this.openingSize + chunk.length > room) return false;
    if (this.opening === undefined) {
      this.opening = [...held];
      for (const earlier of held) this.openingSize += earlier.length;
    }
    this.opening.push(chunk);
    this.openingSize += chunk.length;
    return true;
  }

  /** The client gets the stream's headers and what was held of its start. */
  private commitHeld(sink: ClientSink, held: readonly Buffer[]): void {
    this.committed = true;
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    sink.begin(this.status as number, this.headers as HeaderMap);
    for (const earlier of this.opening ?? held) sink.write(earlier, this);
    this.opening = undefined;
  }

  /**
   * The stream's start was held for target.openingHoldMs: sent as it is, as blue's went at once, and blue no longer
   * answers for it. Held before its first event was whole, its bytes are read now, as they go out.
   */
  releaseOpening(): void {
    const { sink, watch } = this;
    if (this.committed || this.settled || this.finished || sink === undefined || watch === undefined) return;
    if (this.opening !== undefined) return this.commitHeld(sink, NO_CHUNKS);
    const held = this.firstEvent?.held() ?? NO_CHUNKS;
    for (const chunk of held) watch.feed(chunk);
    this.commitHeld(sink, held);
    this.streamBegan();
  }

  private holdsFirstEvent(chunk: Buffer): boolean {
    this.firstEvent ??= new FirstEventHold(this.target.maxResponseBytes, this.target.leadingEvents);
    return this.firstEvent.holds(chunk);
  }

  /** The client's buffer emptied (ClientSink.write's `drained`): the upstream may send again. */
  drained(): void {
    this.heldByClient = false;
    if (this.finished) return;
    if (this.awaitingOutput === undefined) this.armIdle();
    (this.decoder ?? this.controller)?.resume();
  }

  onResponseEnd(): void {
    if (this.decoder !== undefined && !this.settled) this.decoder.end();
    else this.answerEnd();
  }

  /** The answer ended (its decoder's end, when its upstream encoded it). */
  answerEnd(): void {
    if (this.settled) return this.finish();
    if (this.watch) return this.endStream(this.watch);
    this.settleCollected();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.decoder?.destroy();
    this.finish();
    if (this.settled) return;
    if (this.link?.aborted) return this.fail(this.link.reason);
    // Our timer's abort may report here before timedOut runs.
    if (this.expired) return this.timedOut(this.expired);
    this.broke({ ...classifyNetworkError(error, this.target.timeouts.connectMs), status: this.status });
  }

  /**
   * An encoded answer's body did not decode: the arm's bad_response, as any answer that is not what it says. A
   * collected one with a status of 300 or more is that status's failure (a 429's retry-after, a 503's class): its
   * status says what it is, and its body, unread, is passed on empty.
   */
  decodeFailed(reason: string): void {
    const status = this.status as number;
    if (this.chunks !== undefined && status >= 300 && !this.settled) {
      // Settled before the abort, which may report back at once as a connection error.
      const response: UnsentResponse = { status, headers: this.headers as HeaderMap, body: Buffer.alloc(0) };
      const failure = collectedFailure(status, response.headers, response.body, this.request.stream) as Failure;
      this.settle({ result: this.failed(failure), committed: false, response });
    } else this.broke({ failure: 'bad_response', status: this.status, reason });
    this.abort(new Error('an answer that did not decode'));
    // Over on the wire already when the decoder's end found it: no abort comes back to finish it.
    this.finish();
  }

  protected override detached(): void {
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    // A decoder its reader paused (a client not reading) would hold its zlib state until it was collected.
    this.decoder?.destroy();
    if (this.link instanceof ClientLink && this.link.current === this) this.link.current = undefined;
  }

  /**
   * A stream's first body bytes arrived: a long answer that keeps coming is not cut by the request timeout
   * (meant for the wait before it); from here the idle timeout bounds each silence, max_stream_duration the rest.
   */
  private streamBegan(): void {
    this.sawData = true;
    if (this.awaitingOutput === undefined) this.timersLater(STREAM_DUE);
  }

  /**
   * A stream's timers (its idle timer armed or refreshed, its request timer moved to max_stream_duration) are set
   * on the next tick rather than in the undici callback that asks for them: after the bytes written this turn have
   * gone to the client (flushed first: they are its time to first token), and not at all for an answer that ended
   * within the same read (a short stream whose headers, body and end arrive together), whose timers were made
   * only to be dropped. The bytes were once flushed at the first write instead, and such a stream's end then cost
   * the client a second write (a system call) of its own. No timer can fire before a tick of this turn, so the
   * timeouts are the same. The chunks written this turn are read on the same tick, after the timers (a microtask
   * of their own each turn once did it, made before the first write; a stream over within its read needs none:
   * its end reads them).
   */
  private timersLater(due: number): void {
    if (this.timersDue === 0) process.nextTick(runDueTimers, this);
    this.timersDue |= due;
  }

  /**
   * timersLater's tick: this turn's bytes to the client, then the timers, then the reading of what was written,
   * unless the request is over meanwhile (its end read what was left).
   */
  runDueTimers(): void {
    const due = this.timersDue;
    this.timersDue = 0;
    if (this.finished || this.settled) return;
    if (this.committed) this.sink?.flush();
    if (due & STREAM_DUE) this.restartRequestTimer(this.target.maxStreamMs);
    if (due & IDLE_DUE) this.armIdle();
    if (due & READ_DUE) this.watch?.readWritten();
  }

  protected override timeoutReason(kind: 'request' | 'idle'): string {
    if (kind === 'request' && this.sawData && this.awaitingOutput === undefined)
      return `stream went on past ${formatDuration(this.target.maxStreamMs)}, proxy.limits.max_stream_duration`;
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

  /**
   * Time since the request started while nothing of the answer reached the client, or only a stream's leading
   * events (so a client leaving while the model thinks counts alike on both arms: green's are held while blue can
   * answer, blue's pass at once); undefined once output has.
   */
  unansweredAgeMs(): number | undefined {
    return (this.committed || this.opening !== undefined) && this.awaitingOutput === undefined ? undefined : this.steadyNow() - this.startedAt;
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

  /** The stream's end: the client's last bytes first, then the timers cleared (finish()), then the reading. */
  private endStream(watch: AnswerReading): void {
    if (!this.sawData && watch === UNREAD && this.sink) {
      // An empty 2xx answer passed unread is still the answer (a 204, say).
      this.committed = true;
      this.sink.begin(this.status as number, this.headers as HeaderMap);
    }
    if (!this.sawData && !this.committed) {
      // 2xx with an empty body: nothing reached the client, so it is a failure blue may still answer.
      const reason = this.firstEvent?.held().length ? 'the stream ended before its first event was whole' : 'the stream was empty';
      this.finish();
      return this.settle({ result: this.failed({ failure: 'bad_response', status: this.status, reason }), committed: false });
    }
    if (this.opening !== undefined && !this.committed) return this.endOpening(watch);
    this.sink?.end();
    this.finish();
    // Reads what was written and not read yet first.
    const parsed = watch.end();
    if (!parsed.ok)
      return this.settle({ result: this.failed({ failure: 'bad_response', status: this.status, reason: parsed.reason }), committed: this.committed });
    const { responseId, itemIds } = parsed.reply;
    this.settle({ result: this.succeeded(parsed.reply, watch.firstTokenAt), committed: this.committed, responseId, itemIds });
  }

  /**
   * The stream ended while its opening was held (no output, no terminator): a failure blue may still answer, or, if
   * its reader takes it as an answer, sent as it came.
   */
  private endOpening(watch: AnswerReading): void {
    this.finish();
    const parsed = watch.end();
    if (!parsed.ok) return this.settle({ result: this.failed({ failure: 'bad_response', status: this.status, reason: parsed.reason }), committed: false });
    if (this.sink) {
      this.commitHeld(this.sink, NO_CHUNKS);
      this.sink.end();
    }
    const { responseId, itemIds } = parsed.reply;
    this.settle({ result: this.succeeded(parsed.reply, watch.firstTokenAt), committed: this.committed, responseId, itemIds });
  }

  /** The answer collected whole has ended: it is the outcome (the request is over on the wire: finish()). */
  private settleCollected(): void {
    const chunks = this.chunks ?? [];
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    const status = this.status as number;
    const headers = this.headers as HeaderMap;
    const response: UnsentResponse = { status, headers, body };
    const failure = collectedFailure(status, headers, body, this.request.stream);
    if (failure !== undefined) {
      this.finish();
      return this.settle({ result: this.failed(failure), committed: false, response });
    }
    response.text = answerText(body);
    // No fallback can replace this answer: the client gets it as it is now, and it is read after. Written before
    // the timers are cleared (a Node timer list dropped is microseconds of the client's wait); nothing runs between.
    const final = this.sink !== undefined && !this.request.canFallBack;
    if (final) this.sink?.whole(response);
    this.finish();
    const parsed = readCollected(response.text, this.target.parse, this.target.answers);
    const result = parsed.ok ? this.succeeded(parsed.reply, undefined) : this.failed({ failure: 'bad_response', status, reason: parsed.reason });
    const reply = parsed.ok ? parsed.reply : undefined;
    const ids = { responseId: reply?.responseId, itemIds: reply?.itemIds };
    this.settle(final ? { result, committed: true, ...ids } : { result, committed: false, response, ...ids });
  }

  // --- results --------------------------------------------------------------------------------------------

  private exchange(): Exchange {
    const { arm, model } = this.target;
    return { arm, model, stream: this.request.stream, latencyMs: this.steadyNow() - this.startedAt, status: this.status, headers: this.headers };
  }

  private succeeded(reply: DialectReply, firstTokenAt: number | undefined): UpstreamResult {
    return succeededResult(this.exchange(), reply, this.sinceStart(firstTokenAt));
  }

  /** A stream cut after its first token keeps it (the rollout's ttft_p95 counts such a failure by it). */
  private failed(facts: Failure): UpstreamResult {
    return failedResult(this.exchange(), facts, this.sinceStart(this.watch?.firstTokenAt));
  }

  private sinceStart(at: number | undefined): number | undefined {
    return at === undefined ? undefined : at - this.startedAt;
  }
}
