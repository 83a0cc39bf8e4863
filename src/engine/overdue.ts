// Green requests still running past the latency limit. Such a request is known to be slower than the limit
// before it answers, so the latency rules can see a regression from the moment the limit is crossed
// rather than when (or whether) the slow answers finally arrive.
import { steadyNow, type Clock, type TimerHandle } from '../core/clock.js';
import { Slots } from '../core/slots.js';

export interface OverdueWatchOptions {
  clock: Clock;
  /** The smallest latency limit the plan sets: running past it is worth a look. None: only ages are asked. */
  limitMs?: number;
  /** Called when running requests cross the limit; at most once per minGapMs. */
  onOverdue: () => void;
  minGapMs: number;
}

interface Running {
  /** Send order: a later request has a larger id and a sentAt no earlier. */
  id: number;
  sentAt: number;
  stage: number;
}

export class OverdueWatch {
  /** In slots, not a Map: a churned Map's old tables would promote each request's entry (src/core/slots.ts). */
  private readonly running = new Slots<Running>();
  private lastId = 0;
  /** Requests up to this id have been reported overdue (or have ended). */
  private reportedUpTo = 0;
  private timer: TimerHandle | undefined;
  private lastReportAt = -Infinity;
  private stopped = false;

  constructor(private readonly options: OverdueWatchOptions) {}

  /**
   * A request was sent in `stage`; returns its slot for ended(). `sentAt`: the steady time its caller already
   * read for it (ArmSends: one reading for its bins and its age, so the two agree).
   */
  started(stage: number, sentAt = this.now()): number {
    const slot = this.running.add({ id: ++this.lastId, sentAt, stage });
    if (!this.timer) this.arm();
    return slot;
  }

  /** Once for each started(), with the slot it gave; returns the stage it was started in (undefined: ended already). */
  ended(slot: number): number | undefined {
    return this.running.remove(slot)?.stage;
  }

  /** The last request started so far: pass it to agesOver as `upTo` to count only those started up to now. */
  get lastStarted(): number {
    return this.lastId;
  }

  /** Ages (ms) of the stage's requests running longer than olderThanMs (started up to `upTo`), oldest first. */
  agesOver(olderThanMs: number, stage: number, upTo = Infinity): number[] {
    const now = this.now();
    const ages: number[] = [];
    for (const request of this.running.values()) {
      const age = now - request.sentAt;
      if (age > olderThanMs && request.stage === stage && request.id <= upTo) ages.push(age);
    }
    return ages.sort((a, b) => b - a);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Sets the timer for when the oldest request not yet reported crosses the limit. */
  private arm(): void {
    const { clock, limitMs, minGapMs } = this.options;
    if (this.stopped || limitMs === undefined) return;
    const next = this.firstUnreported();
    if (!next) return;
    const now = this.now();
    // One past the limit: a latency exactly at the limit is not over it.
    const crossesAt = Math.max(next.sentAt + limitMs + 1, this.lastReportAt + minGapMs);
    this.timer = clock.setTimer(() => this.fire(), Math.max(0, crossesAt - now));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.now();
    const limitMs = this.options.limitMs ?? Infinity;
    // Sent in id order, the requests over the limit are the oldest: reported up to the newest of them.
    let crossedUpTo = this.reportedUpTo;
    for (const request of this.running.values()) {
      if (request.id > crossedUpTo && now - request.sentAt > limitMs) crossedUpTo = request.id;
    }
    if (crossedUpTo > this.reportedUpTo) {
      this.reportedUpTo = crossedUpTo;
      this.lastReportAt = now;
      this.options.onOverdue();
    }
    this.arm();
  }

  /** Steady time: an age read on the wall clock is off by whatever NTP or an operator stepped it. */
  private now(): number {
    return steadyNow(this.options.clock);
  }

  /** The oldest request running that is not reported yet. */
  private firstUnreported(): Running | undefined {
    let oldest: Running | undefined;
    for (const request of this.running.values()) {
      if (request.id > this.reportedUpTo && (oldest === undefined || request.id < oldest.id)) oldest = request;
    }
    return oldest;
  }
}
