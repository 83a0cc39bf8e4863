// A caller's AbortSignal shared by many requests (the engine's shutdown signal, the proxy's for its mirror copies):
// one 'abort' listener per signal, whatever the number of requests in flight on it.
import { Slots } from '../core/slots.js';

export interface Cancellable {
  cancel(reason: unknown): void;
}

/** In slots, not a Set: a churned Set's old tables would promote each request they held (src/core/slots.ts). */
const watchers = new WeakMap<AbortSignal, Slots<Cancellable>>();

/** `member` is cancelled with the signal's reason when it aborts, unless unwatch() came first; returns its slot. */
export function watch(signal: AbortSignal, member: Cancellable): number {
  let members = watchers.get(signal);
  if (!members) {
    const all = new Slots<Cancellable>();
    members = all;
    watchers.set(signal, all);
    signal.addEventListener(
      'abort',
      () => {
        // Each member unwatches itself as it is cancelled (or later, when the request ends).
        for (const one of all.values()) one.cancel(signal.reason);
      },
      { once: true },
    );
  }
  return members.add(member);
}

/** Once for each watch(), with the slot it gave. */
export function unwatch(signal: AbortSignal, slot: number): void {
  watchers.get(signal)?.remove(slot);
}
