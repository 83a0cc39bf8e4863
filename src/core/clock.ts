// Time is injected so the stage clock, analysis and retries can be driven by a fake clock in tests.
// Two clocks, two jobs. Every duration, deadline, rate or schedule (a latency, a stage's time, a wait's bound, the
// arrival grid, a window's seconds) is measured on steadyNow(clock): the wall clock an operator, NTP or a resumed VM
// steps would stretch it by an hour, or end it at once. now() is for what is recorded or shown as a time of day (an
// event's `at`, a stage's start, state.json's updatedAt, a Retry-After date), and for a time another process must read
// (a proxy's lease expiry in its route file: a steady reading means nothing to another process, so there the wall time
// is kept and bounded by a steady deadline of the process's own, src/proxy/route-lease.ts).

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch: the wall clock, which an operator, NTP or a resumed VM may step either way. */
  now(): number;
  /**
   * Milliseconds on a clock that only moves forward at a steady rate (performance.now), for measuring how long
   * something ran. Optional so a hand-driven test clock may leave it out: now() stands in (see steadyNow below).
   */
  steadyNow?(): number;
  /** Calls fn after ms; the handle cancels it. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

/**
 * Node's setTimeout fires at once for delays over 2^31-1 ms (~24.8 days) and warns; a timer that long is
 * waited for in chunks so a 600 h stage never "passes" early.
 */
export const MAX_TIMER_CHUNK_MS = 2 ** 31 - 1;

/** The latest time a JavaScript Date holds (epoch ms): one past it (a hand-edited file's 1e308) cannot be shown. */
export const MAX_TIME_MS = 8.64e15;

/**
 * Whether a time read from a file or another process (state.json, the journal, a proxy's route) is one bluegreen can
 * record and show: epoch ms from 0 to MAX_TIME_MS. Another (9e15) made every reader that printed it fail with
 * "internal error: Invalid time value" (hostile32).
 */
export function isEpochMs(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= MAX_TIME_MS;
}

/** The clock's steady reading, or its wall clock when it has none. */
export function steadyNow(clock: Pick<Clock, 'now' | 'steadyNow'>): number {
  return clock.steadyNow?.() ?? clock.now();
}

/** The wall-clock time a steady reading stands for, as of now: a steady deadline shown to an operator. */
export function wallTimeOf(clock: Pick<Clock, 'now' | 'steadyNow'>, steadyAt: number): number {
  return clock.now() + (steadyAt - steadyNow(clock));
}

/** The real clock. Long timers are chunked, on the steady clock; none fires early, whatever the wall clock does. */
export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    steadyNow: () => performance.now(),
    setTimer(fn, ms) {
      const due = performance.now() + Math.max(0, ms);
      let timer: NodeJS.Timeout;
      const arm = (): void => {
        const left = due - performance.now();
        timer = left > MAX_TIMER_CHUNK_MS ? setTimeout(arm, MAX_TIMER_CHUNK_MS) : setTimeout(fn, Math.max(0, left));
      };
      arm();
      return { cancel: () => clearTimeout(timer) };
    },
  };
}

export const systemClock: Clock = createSystemClock();

/** A timer that does not hold the process open (a background write, a check that only matters while it runs). */
export function unrefTimer(fn: () => void, ms: number): TimerHandle {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
}

/** Resolves after ms on the given clock, or rejects with the signal's reason as soon as it aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      handle.cancel();
      reject(signal?.reason);
    };
    const handle = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** sleep() on the real clock, with the signature retry loops take. */
export function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(systemClock, ms, signal);
}
