import { realSleep } from '../core/clock.js';
import type { InFlight } from './in-flight.js';

/**
 * While draining, how long the kept-alive connection of a stream under way at the drain's start may stay open once
 * nothing is in flight: a client reading that stream often sends its next request down it at once, and it is
 * served (with `connection: close`) rather than reset by the stop.
 */
export const DRAIN_LINGER_MS = 1000;

/**
 * Until nothing is in flight and the kept-alive connections of streams under way at the drain's start have closed
 * (or stayed idle for DRAIN_LINGER_MS), `timeoutMs` has passed, or `force` aborts, whichever comes first.
 */
export async function untilIdle(inFlight: InFlight, timeoutMs: number, force: AbortSignal | undefined): Promise<void> {
  if ((inFlight.size === 0 && inFlight.keptOpen === 0) || timeoutMs <= 0 || force?.aborted) return;
  // Ended when the requests end first, so no timer outlives the drain.
  const over = new AbortController();
  const stop = force ? AbortSignal.any([force, over.signal]) : over.signal;
  let out = false;
  const waited = realSleep(timeoutMs, stop)
    .catch(() => undefined)
    .then(() => void (out = true));
  try {
    for (;;) {
      await Promise.race([inFlight.idle(), waited]);
      if (out || inFlight.keptOpen === 0) return;
      const linger = realSleep(DRAIN_LINGER_MS, stop).catch(() => undefined);
      await Promise.race([inFlight.keptClosed(), linger, waited]);
      // A request that came down one of them meanwhile is waited for too (its connection closes after its answer).
      if (out || inFlight.size === 0) return;
    }
  } finally {
    over.abort();
  }
}
