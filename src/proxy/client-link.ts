import type { ServerResponse } from 'node:http';
import type { CancelSource } from '../upstream/dispatch.js';

/** Where a followed response keeps its link (ClientLink.follow). */
const LINK = Symbol('bluegreen.clientLink');
type Followed = ServerResponse & { [LINK]?: ClientLink };

/** A followed response's 'close' (`this`: the response, as an emitter calls its listeners). */
function responseClosed(this: Followed): void {
  if (!this.writableFinished) this[LINK]?.gone(new Error('the client went away'));
}

/**
 * The client's side of one request: its going away cancels whatever runs upstream for it at that moment. A
 * plain object rather than an AbortController, which costs an EventTarget and a listener per request.
 */
export class ClientLink implements CancelSource {
  aborted = false;
  reason: unknown = undefined;
  /** The forwarding running for this client now, if any. */
  current?: { cancel(reason: unknown): void; unansweredAgeMs?(): number | undefined };
  /**
   * The client went away before the first byte of the answer: how long the attempt had run (ms). Declared, not
   * initialised: set only on that path, so a request that is answered pays nothing for it.
   */
  declare abandonedAfterMs?: number;

  gone(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.abandonedAfterMs = this.current?.unansweredAgeMs?.();
    this.current?.cancel(reason);
  }

  /** Goes when the client's response closes unfinished: the client went away. */
  follow(res: ServerResponse): void {
    // One listener shared by every response, which finds its link on the response: not two closures a request.
    (res as Followed)[LINK] = this;
    res.on('close', responseClosed);
    if (res.socket === null) watchConnection(res, () => this.gone(new Error('the client went away')));
  }
}

/**
 * Calls `gone` when the client goes away before `res` is finished (at most twice: callers ignore a second call).
 * A pipelined request's answer (HTTP/1.1 lets a client send several requests down one connection before any
 * answer) gets no socket until the answers before it are done, and Node emits no 'close' for it when the connection
 * goes meanwhile: the connection itself is watched until the answer gets it. Without this each such request ran
 * upstream to its end and held a max_concurrency slot after its client had gone (test/hostile/pipelined-client-gone.test.ts).
 */
export function onClientGone(res: ServerResponse, gone: () => void): void {
  // on, not once: a response closes once, and once() wraps the listener (two more objects a request).
  res.on('close', () => {
    if (!res.writableFinished) gone();
  });
  if (res.socket === null) watchConnection(res, gone);
}

/** A pipelined request's answer, not given its connection yet: `gone` when the connection closes first (onClientGone). */
function watchConnection(res: ServerResponse, gone: () => void): void {
  const connection = res.req.socket;
  if (connection.destroyed) return gone();
  connection.on('close', gone);
  // Once the answer has the connection, its own 'close' says it (above). At most max_concurrency such listeners.
  connection.setMaxListeners(0);
  res.once('socket', () => connection.off('close', gone));
}
