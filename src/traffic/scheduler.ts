// Open-model arrivals: arrival i (i >= 1) is due at start + i x 1000/rate, whatever the responses do. A timer
// wakes when the next arrival is due and emits every arrival that has fallen due, each with its scheduled
// time, so a late timer is caught up and its lateness is measured rather than hidden.
import type { Clock, TimerHandle } from '../core/clock.js';

export interface ArrivalSchedulerOptions {
  /** Arrivals per second. */
  rate: number;
  clock: Clock;
  /** Called once per arrival with the time it was due; may call stop() or setRate(). */
  onArrival: (scheduledAt: number) => void;
  /**
   * Longest wait between two ticks, in ms (default 1000). A tick is set for when the next arrival falls due,
   * so at high rates ticks are 1000/rate apart (timers round up to 1 ms and catch up in batches); a small
   * fixed tick would only add idle wake-ups, and slow fake-clock tests of long rollouts.
   */
  tickMs?: number;
  /**
   * Arrivals more than this late are skipped and counted as missed rather than sent in one burst (default
   * 10 s): after a suspended laptop or a wall-clock jump, an hour of traffic must not go out at once.
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

export function createArrivalScheduler(options: ArrivalSchedulerOptions): ArrivalScheduler {
  const { clock, onArrival } = options;
  const tickMs = Math.max(0.1, options.tickMs ?? 1000);
  const maxCatchUpMs = options.maxCatchUpMs ?? 10_000;
  let rate = checkRate(options.rate);
  let running = false;
  let emitting = false;
  let timer: TimerHandle | undefined;
  // Arrival k (k >= 1) of the current rate segment is due at anchor + k x 1000/rate; `index` were emitted.
  let anchor = 0;
  let index = 0;
  const stats = { arrivals: 0, maxLagMs: 0, missed: 0 };

  // Computed from the anchor each time (not by adding intervals) so rounding never accumulates.
  const dueAt = (k: number) => anchor + (k * 1000) / rate;

  function emitDue(): void {
    const now = clock.now();
    const oldest = now - maxCatchUpMs;
    if (dueAt(index + 1) <= oldest) {
      let skipTo = Math.floor(((oldest - anchor) * rate) / 1000);
      if (dueAt(skipTo) > oldest) skipTo--;
      if (skipTo > index) {
        stats.missed += skipTo - index;
        index = skipTo;
      }
    }
    emitting = true;
    try {
      while (running && dueAt(index + 1) <= now + EPSILON_MS) {
        index++;
        const scheduledAt = dueAt(index);
        stats.arrivals++;
        stats.maxLagMs = Math.max(stats.maxLagMs, now - scheduledAt);
        onArrival(scheduledAt);
      }
    } finally {
      emitting = false;
    }
  }

  function arm(): void {
    timer?.cancel();
    timer = undefined;
    if (!running) return;
    const wait = Math.min(tickMs, Math.max(0, dueAt(index + 1) - clock.now()));
    timer = clock.setTimer(tick, wait);
  }

  function tick(): void {
    timer = undefined;
    emitDue();
    // onArrival may have stopped us, or re-armed us through setRate.
    if (running && !timer) arm();
  }

  return {
    start() {
      if (running) return;
      running = true;
      anchor = clock.now();
      index = 0;
      arm();
    },
    stop() {
      running = false;
      timer?.cancel();
      timer = undefined;
    },
    setRate(next) {
      checkRate(next);
      if (next === rate) return;
      if (!running) {
        rate = next;
        return;
      }
      if (!emitting) emitDue();
      const last = dueAt(index);
      const now = clock.now();
      rate = next;
      // The next arrival comes one new interval after the last one, but never in the past: raising the rate
      // must not replay the quiet gap before it as a burst.
      anchor = Math.max(last, now - 1000 / rate);
      index = 0;
      if (!emitting) arm();
      else {
        timer?.cancel();
        timer = undefined;
      }
    },
    stats: () => ({ ...stats, rate }),
  };
}

function checkRate(rate: number): number {
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`arrival rate must be a positive number, got ${rate}`);
  return rate;
}
