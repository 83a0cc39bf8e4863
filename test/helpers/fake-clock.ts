// A clock moved by hand for tests: advance() fires due timers in order, letting promises settle between them.
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import type { RolloutView } from '../../src/engine/types.js';

/** A clock moved by hand: advance() fires due timers in order. */
export class FakeClock implements Clock {
  /** The steady clock, which advance() moves and timers are due on. */
  private steady: number;
  /** The wall clock's lead over the steady one: moved by jumpWall() alone. */
  private wallLead = 0;
  private timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  private seq = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.steady = start;
  }

  now(): number {
    return this.steady + this.wallLead;
  }

  steadyNow(): number {
    return this.steady;
  }

  /** Steps the wall clock alone (NTP, an operator, a resumed VM), either way: timers and the steady clock stay. */
  jumpWall(ms: number): void {
    this.wallLead += ms;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.steady + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Moves time forward by ms, firing every timer that falls due, and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.steady + ms;
    for (;;) {
      await flushMicrotasks();
      const due = this.timers.filter((t) => !t.cancelled && t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.steady = Math.max(this.steady, due.at);
      due.cancelled = true;
      due.fn();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.steady = target;
    await flushMicrotasks();
  }

  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}

const PACE_STEP_MS = 10;

/**
 * Moves an in-process rollout's clock PACE_STEP_MS at a time, each step once every request sent so far has its answer,
 * until the rollout ends. Its arrivals, judgements and stage ends follow that clock: however slowly a loaded machine
 * answers, each stage sends its planned requests, none waits in a queue, and a stage ends with all its requests
 * answered (on a real clock, three rollouts at 150/s in one process outran it at load 35: their requests timed out
 * after 30 s, 20% of both arms', and the error_rate rule rolled back a green equal to blue). Latencies are still
 * measured on the real clock (the upstream client's), stalls included.
 */
export async function pace(clock: FakeClock, view: () => RolloutView | undefined, running: Promise<number>): Promise<void> {
  let ended = false;
  void running.finally(() => (ended = true)).catch(() => undefined);
  while (!ended) {
    const stages = view()?.snapshot().stages;
    const inFlight = stages?.reduce((sum, stage) => sum + stage.arms.blue.inFlight + stage.arms.green.inFlight, 0);
    if (inFlight === 0) await clock.advance(PACE_STEP_MS);
    else await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
