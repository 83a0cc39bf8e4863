// Green requests still running past the latency limit. Such a request is known to be slower than the limit
// before it answers, so the latency rules can see a regression from the moment the limit is crossed
// rather than when (or whether) the slow answers finally arrive.
import type { Clock, TimerHandle } from '../core/clock.js';

export interface OverdueWatchOptions {
  clock: Clock;
  /** The smallest latency limit the plan sets: running past it is worth a look. None: only ages are asked. */
  limitMs?: number;
  /** Called when running requests cross the limit; at most once per minGapMs. */
  onOverdue: () => void;
  minGapMs: number;
}

interface Running {
  sentAt: number;
  stage: number;
}

export class OverdueWatch {
  // Insertion order is send order, so sentAt never decreases along the map.
  private readonly running = new Map<number, Running>();
  private lastId = 0;
  /** Requests up to this id have been reported overdue (or have ended). */
  private reportedUpTo = 0;
  private timer: TimerHandle | undefined;
  private lastReportAt = -Infinity;
  private stopped = false;

  constructor(private readonly options: OverdueWatchOptions) {}

  /** A green request was sent in `stage`; returns its id for ended(). */
  started(stage: number): number {
    const id = ++this.lastId;
    this.running.set(id, { sentAt: this.options.clock.now(), stage });
    if (!this.timer) this.arm();
    return id;
  }

  ended(id: number): void {
    this.running.delete(id);
  }

  /** Ages (ms) of the stage's requests running longer than olderThanMs. */
  agesOver(olderThanMs: number, stage: number): number[] {
    const now = this.options.clock.now();
    const ages: number[] = [];
    for (const request of this.running.values()) {
      const age = now - request.sentAt;
      if (age <= olderThanMs) break;
      if (request.stage === stage) ages.push(age);
    }
    return ages;
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
    const now = clock.now();
    // One past the limit: a latency exactly at the limit is not over it.
    const crossesAt = Math.max(next.sentAt + limitMs + 1, this.lastReportAt + minGapMs);
    this.timer = clock.setTimer(() => this.fire(), Math.max(0, crossesAt - now));
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.options.clock.now();
    const limitMs = this.options.limitMs ?? Infinity;
    let crossed = false;
    for (const [id, request] of this.running) {
      if (id <= this.reportedUpTo) continue;
      if (now - request.sentAt <= limitMs) break;
      this.reportedUpTo = id;
      crossed = true;
    }
    if (crossed) {
      this.lastReportAt = now;
      this.options.onOverdue();
    }
    this.arm();
  }

  private firstUnreported(): Running | undefined {
    for (const [id, request] of this.running) if (id > this.reportedUpTo) return request;
    return undefined;
  }
}
