// A caller's AbortSignal shared by many requests (the engine's shutdown signal, the proxy's for its mirror copies),
// watched once: one 'abort' listener whatever the number of requests in flight on it. Its owner makes one and
// passes it in place of the signal, so no request looks its signal up (no module-level table of signals).
import { Slots } from '../core/slots.js';

export interface Cancellable {
  cancel(reason: unknown): void;
}

export class SignalWatch {
  /** In slots, not a Set: a churned Set's old tables would promote each request they held (src/core/slots.ts). */
  private readonly members = new Slots<Cancellable>();

  constructor(readonly signal: AbortSignal) {
    signal.addEventListener(
      'abort',
      () => {
        // Each member unwatches itself as it is cancelled (or later, when the request ends).
        for (const one of this.members.values()) one.cancel(signal.reason);
      },
      { once: true },
    );
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  get reason(): unknown {
    return this.signal.reason as unknown;
  }

  /** `member` is cancelled with the signal's reason when it aborts, unless unwatch() came first; returns its slot. */
  watch(member: Cancellable): number {
    return this.members.add(member);
  }

  /** Once for each watch(), with the slot it gave. */
  unwatch(slot: number): void {
    this.members.remove(slot);
  }
}
