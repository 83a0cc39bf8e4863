// A timer that fires every ms until cancelled: the analysis interval, state writes and control polling.
import type { Clock, TimerHandle } from '../core/clock.js';

/** Calls tick every ms on the clock; the next tick is scheduled after this one ran, so ticks never pile up. */
export function repeatEvery(clock: Clock, ms: number, tick: () => void): TimerHandle {
  let current: TimerHandle | undefined;
  let cancelled = false;
  const schedule = (): void => {
    current = clock.setTimer(() => {
      if (cancelled) return;
      tick();
      if (!cancelled) schedule();
    }, ms);
  };
  schedule();
  return {
    cancel: () => {
      cancelled = true;
      current?.cancel();
    },
  };
}
