// How long the current stage has run, pauses excluded, and the timer that ends it. Measured on the steady clock:
// a wall-clock step (NTP, a resumed VM) while a stage ran was counted as running time, so a pause then ended it.
import { steadyNow, type Clock, type TimerHandle } from '../core/clock.js';

export class StageClock {
  private durationMs = 0;
  private elapsedBefore = 0;
  private segmentStartedAt: number | undefined;
  private timer?: TimerHandle;

  constructor(
    private readonly clock: Clock,
    /** Called once when the stage's running time reaches its duration. */
    private readonly onTimeUp: () => void,
  ) {}

  /** A new stage: elapsed time starts from zero; the clock runs only if `running`. */
  begin(durationMs: number, running: boolean): void {
    this.stop();
    this.durationMs = durationMs;
    this.elapsedBefore = 0;
    if (running) this.run();
  }

  /** Starts (or restarts after a pause) counting toward the stage's end. */
  run(): void {
    if (this.segmentStartedAt !== undefined) return;
    this.segmentStartedAt = steadyNow(this.clock);
    this.timer = this.clock.setTimer(this.onTimeUp, Math.max(0, this.durationMs - this.elapsedBefore));
  }

  /** Stops counting: the time so far is kept for run() to continue from. */
  stop(): void {
    if (this.segmentStartedAt !== undefined) this.elapsedBefore += steadyNow(this.clock) - this.segmentStartedAt;
    this.segmentStartedAt = undefined;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Adds time to the running stage (an extension while a rule is undecided). */
  extend(ms: number): void {
    const running = this.segmentStartedAt !== undefined;
    this.stop();
    this.durationMs += ms;
    if (running) this.run();
  }

  elapsed(): number {
    const running = this.segmentStartedAt !== undefined ? steadyNow(this.clock) - this.segmentStartedAt : 0;
    return this.elapsedBefore + running;
  }
}
