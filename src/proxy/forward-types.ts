// What forwarding one request to one arm takes and gives back (src/proxy/forward.ts): the arm's target, the
// request, the client's response as a sink, and the outcome.
import type { Dispatcher } from 'undici';
import type { ArmName } from '../plan/plan.js';
import type { HeaderMap } from '../upstream/classify.js';
import type { AnswerReader, ParseOutcome, StreamReader } from '../upstream/dialect.js';
import type { UpstreamResult } from '../upstream/types.js';
import type { RequestTimerBatch } from '../upstream/dispatch.js';

/**
 * Where an arm's requests on one split path (chat, the Responses API) go: its pool, the path's answer readers,
 * the headers every request carries (its key among them).
 */
export interface ForwardTarget {
  arm: ArmName;
  model: string;
  /** Reads a whole 2xx answer of this path. */
  parse: (json: unknown) => ParseOutcome;
  /** Reads a whole 2xx answer of this path from its text when it is spelled like an earlier one (before `parse`). */
  answers?: AnswerReader;
  /** A reader for one of this upstream's streams (the readers share what they learn of its spelling). */
  streamReader: () => StreamReader;
  /**
   * Stream events that come before any output (the Responses API's response.created, Anthropic's message_start): while blue can answer, a
   * green stream's start is held past them too, so a failure right after them still falls back.
   */
  leadingEvents?: ReadonlySet<string>;
  dispatcher: Dispatcher;
  /** The dispatcher leaves the headers object it is given as it is (a pool; a forward proxy's agent adds `host`). */
  headersKept: boolean;
  /** Scheme, host and port of the upstream (a forward-proxy agent serves several). */
  origin: string;
  /** Path (and query) of the split endpoint (chat, or the Responses API) on the pool's origin. */
  chatPath: string;
  /** The dialect's protocol and auth headers plus the plan's headers. */
  headers: Record<string, string>;
  /**
   * What a request to this target carries after the application's own headers, built once: the proxy's content
   * type and accept (a stream's or a JSON answer's), then `headers` (the plan's may override either).
   */
  requestHeaders: { stream: Readonly<Record<string, string>>; json: Readonly<Record<string, string>> };
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
  /** Arms the request timers of the requests started in one turn together (one for all the targets). */
  requestTimers: RequestTimerBatch;
  /** Largest answer read whole (an error answer, a non-streamed body); larger ones fail as bad_response. */
  maxResponseBytes: number;
  /** Longest a streamed 2xx answer may go on after its first body bytes (proxy.limits.max_stream_duration). */
  maxStreamMs: number;
  /**
   * Longest a green stream's start (headers and first events, no output yet) is held while blue can answer for it,
   * from its first body bytes (proxy.opening_hold); then it is sent as it is.
   */
  openingHoldMs: number;
}

export interface ForwardRequest {
  /** Default POST; a stored response's read or deletion (src/proxy/stored-reads.ts) is a GET or DELETE. */
  method?: 'GET' | 'POST' | 'DELETE';
  /** The body to send, model already rewritten; none for a GET or DELETE. */
  body: string | Buffer | undefined;
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
  /**
   * A stream's response id, as soon as its events name it: remembered for continuations before the client, which
   * may continue at its response.completed, sends one (the upstream may close the stream only later).
   */
  onResponseId?: (id: string) => void;
}

/** The client's response, written to only for a streamed 2xx answer. */
export interface ClientSink {
  /** Once, with the first body bytes: the status and headers to send. */
  begin(status: number, headers: HeaderMap): void;
  /** False when the client's buffer is full; `waiter.drained()` is then called once it empties. */
  write(chunk: Buffer, waiter: { drained(): void }): boolean;
  /** Sends what was written now, not at the end of this turn of the event loop (the stream's first bytes). */
  flush(): void;
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
  /** A 2xx body's text (answer-text.ts), made once for its key search and its reply's read. */
  text?: string;
}

export interface ForwardOutcome {
  result: UpstreamResult;
  /** A Responses API answer's id, when it was read (what a continuation names as previous_response_id). */
  responseId?: string;
  /** Its output items' ids (what a later request's input may name). */
  itemIds?: string[];
  /** Bytes went to the client: the answer is given, whatever happened after. */
  committed: boolean;
  /**
   * An answer that came back whole and was not sent: an error answer, or a non-streamed body blue may still
   * replace. A non-streamed 2xx body no fallback can replace is sent before it is read (committed).
   */
  response?: UnsentResponse;
}
