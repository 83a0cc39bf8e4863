// A clock for synchronous waits (a named pipe polled with Atomics.wait), which a FakeClock cannot move: its steady
// clock is the real one, its wall clock steps by `stepMs` at every reading, as if NTP or an operator stepped it
// between any two polls. A wait timed on the wall clock then ends at once (a step forward) or never (a step back):
// the clock gives up on such a wait after `giveUpMs` of steady time, so the test fails with a sentence instead of
// blocking its worker for the hour.
import type { Clock } from '../../src/core/clock.js';

export interface DriftingClock extends Pick<Clock, 'now' | 'steadyNow'> {
  /** Readings taken so far. */
  readonly reads: number;
}

/** `onRead(n)`: called at the n-th reading (from 1), before it is taken: where a test makes the other side act. */
export function driftingClock(stepMs: number, onRead: (reads: number) => void = () => {}, giveUpMs = 20_000): DriftingClock {
  const started = performance.now();
  let reads = 0;
  let wallLead = 0;
  const read = (): void => {
    reads++;
    onRead(reads);
    if (performance.now() - started > giveUpMs) throw new Error(`still waiting after ${giveUpMs / 1000}s of steady time: the wait is on the wall clock`);
  };
  return {
    get reads() {
      return reads;
    },
    now() {
      read();
      wallLead += stepMs;
      return Date.now() + wallLead;
    },
    steadyNow() {
      read();
      return performance.now();
    },
  };
}
