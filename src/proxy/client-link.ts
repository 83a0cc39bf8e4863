import type { ServerResponse } from 'node:http';
import type { CancelSource } from '../upstream/dispatch.js';

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
    // on, not once: a response closes once, and once() wraps the listener (two more objects a request).
    res.on('close', () => {
      if (!res.writableFinished) this.gone(new Error('the client went away'));
    });
  }
}
