// Open-model arrivals: arrival i (i >= 1) is due at start + i x 1000/rate, whatever the responses do. A timer
// wakes when the next arrival is due and emits every arrival that has fallen due, each with its scheduled
// time, so a late timer is caught up and its lateness is measured rather than hidden. The schedule runs on the
// steady clock: a wall clock stepped back an hour would stop the traffic for that hour, one stepped forward would
// skip arrivals as missed.
import { steadyNow, type Clock, type TimerHandle } from '../core/clock.js';

export interface ArrivalSchedulerOptions {
  /** Arrivals per second. */
  rate: number;
  clock: Clock;
  /** Called once per arrival with the time it was due (on the steady clock, steadyNow); may call stop() or setRate(). */
  onArrival: (scheduledAt: number) => void;
  /**
   * Longest wait between two ticks, in ms (default 1000). A tick is set for when the next arrival falls due,
   * so at high rates ticks are 1000/rate apart (timers round up to 1 ms and catch up in batches); a small
   * fixed tick would only add idle wake-ups, and slow fake-clock tests of long rollouts.
   */
  tickMs?: number;
  /**
   * Arrivals more than this late are skipped and counted as missed rather than sent in one burst (default
   * 10 s): after a suspended laptop or a stalled process, an hour of traffic must not go out at once.
   */
  maxCatchUpMs?: number;
}

export interface ArrivalStats {
  arrivals: number;
  /** The latest any arrival was emitted after its scheduled time. */
  maxLagMs: number;
  /** Arrivals skipped because they were more than maxCatchUpMs late. */
  missed: number;
  rate: number;
}

export interface ArrivalScheduler {
  start(): void;
  stop(): void;
  /** Changes the rate from the last arrival on; arrivals already due are emitted at the old rate first. */
  setRate(rate: number): void;
  stats(): ArrivalStats;
}

// Float slack so an arrival scheduled at exactly `now` (1000/3 x 3, say) counts as due.
const EPSILON_MS = 1e-6;

/** One scheduler's state. */
interface Schedule {
  readonly clock: Clock;
  readonly onArrival: (scheduledAt: number) => void;
  readonly tickMs: number;
  readonly maxCatchUpMs: number;
  rate: number;
  running: boolean;
  /** Inside onArrival: a setRate from there leaves the timer to the tick that is emitting. */
  emitting: boolean;
  timer: TimerHandle | undefined;
  // Arrival k (k >= 1) of the current rate segment is due at anchor + k x 1000/rate; `index` were emitted.
  anchor: number;
  index: number;
  readonly stats: Omit<ArrivalStats, 'rate'>;
}

export function createArrivalScheduler(options: ArrivalSchedulerOptions): ArrivalScheduler {
  const schedule: Schedule = {
    clock: options.clock,
    onArrival: options.onArrival,
    tickMs: Math.max(0.1, options.tickMs ?? 1000),
    maxCatchUpMs: options.maxCatchUpMs ?? 10_000,
    rate: checkRate(options.rate),
    running: false,
    emitting: false,
    timer: undefined,
    anchor: 0,
    index: 0,
    stats: { arrivals: 0, maxLagMs: 0, missed: 0 },
  };
  return {
    start: () => start(schedule),
    stop: () => stop(schedule),
    setRate: (next) => setRate(schedule, next),
    stats: () => ({ ...schedule.stats, rate: schedule.rate }),
  };
}

// Computed from the anchor each time (not by adding intervals) so rounding never accumulates.
const dueAt = (schedule: Schedule, k: number) => schedule.anchor + (k * 1000) / schedule.rate;

function start(schedule: Schedule): void {
  if (schedule.running) return;
  schedule.running = true;
  schedule.anchor = steadyNow(schedule.clock);
  schedule.index = 0;
  arm(schedule);
}

function stop(schedule: Schedule): void {
  schedule.running = false;
  cancelTimer(schedule);
}

function setRate(schedule: Schedule, next: number): void {
  checkRate(next);
  if (next === schedule.rate) return;
  if (!schedule.running) {
    schedule.rate = next;
    return;
  }
  if (!schedule.emitting) emitDue(schedule);
  const last = dueAt(schedule, schedule.index);
  const now = steadyNow(schedule.clock);
  schedule.rate = next;
  // The next arrival comes one new interval after the last one, but never in the past: raising the rate
  // must not replay the quiet gap before it as a burst.
  schedule.anchor = Math.max(last, now - 1000 / next);
  schedule.index = 0;
  if (!schedule.emitting) arm(schedule);
  else cancelTimer(schedule);
}

/** Emits every arrival that has fallen due, after skipping (and counting) those more than maxCatchUpMs late. */
function emitDue(schedule: Schedule): void {
  const now = steadyNow(schedule.clock);
  skipMissed(schedule, now);
  schedule.emitting = true;
  try {
    while (schedule.running && dueAt(schedule, schedule.index + 1) <= now + EPSILON_MS) {
      schedule.index++;
      const scheduledAt = dueAt(schedule, schedule.index);
      schedule.stats.arrivals++;
      schedule.stats.maxLagMs = Math.max(schedule.stats.maxLagMs, now - scheduledAt);
      schedule.onArrival(scheduledAt);
    }
  } finally {
    schedule.emitting = false;
  }
}

function skipMissed(schedule: Schedule, now: number): void {
  const oldest = now - schedule.maxCatchUpMs;
  if (dueAt(schedule, schedule.index + 1) > oldest) return;
  let skipTo = Math.floor(((oldest - schedule.anchor) * schedule.rate) / 1000);
  if (dueAt(schedule, skipTo) > oldest) skipTo--;
  if (skipTo > schedule.index) {
    schedule.stats.missed += skipTo - schedule.index;
    schedule.index = skipTo;
  }
}

/** Sets the timer for when the next arrival falls due, at most tickMs away. */
function arm(schedule: Schedule): void {
  cancelTimer(schedule);
  if (!schedule.running) return;
  const wait = Math.min(schedule.tickMs, Math.max(0, dueAt(schedule, schedule.index + 1) - steadyNow(schedule.clock)));
  schedule.timer = schedule.clock.setTimer(() => tick(schedule), wait);
}

function tick(schedule: Schedule): void {
  schedule.timer = undefined;
  emitDue(schedule);
  // onArrival may have stopped us, or re-armed us through setRate.
  if (schedule.running && !schedule.timer) arm(schedule);
}

function cancelTimer(schedule: Schedule): void {
  schedule.timer?.cancel();
  schedule.timer = undefined;
}

function checkRate(rate: number): number {
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`arrival rate must be a positive number, got ${rate}`);
  return rate;
}
