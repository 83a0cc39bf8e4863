// Timers owned by one request, so a closed connection or a closing server cancels them all at once.
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';

export class RequestTimers {
  private readonly pending = new Set<TimerHandle>();
  private cancelled = false;

  /** `clock`: the simulator's (a test's fake clock makes every answer's delay exact, whatever the machine's load). */
  constructor(private readonly clock: Pick<Clock, 'setTimer'> = systemClock) {}

  after(ms: number, fn: () => void): void {
    if (this.cancelled) return;
    const timer = this.clock.setTimer(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.add(timer);
  }

  cancel(): void {
    this.cancelled = true;
    for (const timer of this.pending) timer.cancel();
    this.pending.clear();
  }
}
