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
  /** Real work under way that no time may pass during (see waitWhile). */
  private readonly busySources: (() => boolean)[] = [];

  /**
   * `wholeMs`: now() in whole milliseconds, as Date.now(), while the steady clock keeps fractions, as performance.now()
   * does. For a clock whose timers fall due at fractions of one (a simulator's drawn latencies, heldOn): a wall time
   * the rollout writes down (state.json, a report's `endedAtMs`, whole in its schema) is then whole, as on the real clock.
   */
  constructor(
    start = Date.UTC(2026, 0, 1),
    private readonly options: { wholeMs?: boolean } = {},
  ) {
    this.steady = start;
  }

  now(): number {
    const now = this.steady + this.wallLead;
    return this.options.wholeMs ? Math.floor(now) : now;
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

  /**
   * Tells what drives this clock on its own (runClockUntil in test/live) to hold it while `busy` says real work is under
   * way (an exchange on the network): time passing then would be time that work took on the fake clock.
   */
  waitWhile(busy: () => boolean): void {
    this.busySources.push(busy);
  }

  /** Whether real work is under way that no time may pass during (see waitWhile). */
  busy(): boolean {
    return this.busySources.some((busy) => busy());
  }

  /** When the next timer falls due (the steady clock's reading), or undefined when none is pending. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const timer of this.timers) if (!timer.cancelled && (next === undefined || timer.at < next)) next = timer.at;
    return next;
  }

  /** Moves time on to the next timer's due time and fires every timer due then; false when none is pending. */
  async advanceToNext(): Promise<boolean> {
    const next = this.nextDueAt();
    if (next === undefined) return false;
    await this.advance(Math.max(0, next - this.steady));
    return true;
  }
}

/**
 * The clock as a simulator sees it (its answers' delays, startSimulator's `clock`), counting the timers it has
 * pending on `clock`: each is one request held until its answer is due (a stream's next frames, one at a time).
 */
export function heldOn(clock: FakeClock): { clock: Clock; held: () => number } {
  let held = 0;
  const simClock: Clock = {
    now: () => clock.now(),
    steadyNow: () => clock.steadyNow(),
    setTimer(fn, ms) {
      held++;
      let pending = true;
      const settle = (): void => {
        if (pending) held--;
        pending = false;
      };
      const handle = clock.setTimer(() => {
        settle();
        fn();
      }, ms);
      return {
        cancel: () => {
          settle();
          handle.cancel();
        },
      };
    },
  };
  return { clock: simClock, held: () => held };
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Runs an in-process rollout's clock until the rollout ends, moving it only once every request sent is held at
 * `upstream` (a simulator whose answers wait on this clock: startSimulator's `clock`, from heldOn(); simulatorOnClock
 * in test/helpers/simulator.ts makes both), none on its way to the simulator or back, none being recorded, and only to
 * the next timer's due time. Its arrivals, judgements and stage ends follow that clock: however slowly a loaded machine
 * answers, each stage sends its planned requests, none waits in a queue, a stage ends with all its requests answered
 * (on a real clock, three rollouts at 150/s in one process outran it at load 35: their requests timed out after 30 s,
 * 20% of both arms', and the error_rate rule rolled back a green equal to blue), and each request is answered, and its
 * latency timed, exactly when its drawn latency says. (Session 22 also paced rollouts whose simulator answered on the
 * real clock: the clock stood still while they were answered, and every latency read 0 ms.)
 */
export async function pace(clock: FakeClock, view: () => RolloutView | undefined, running: Promise<number>, upstream: { held: () => number }): Promise<void> {
  let ended = false;
  void running.finally(() => (ended = true)).catch(() => undefined);
  while (!ended) {
    const stages = view()?.snapshot().stages;
    // Time starts with the first stage: the start before it waits on real work alone (the first state.json), and a
    // clock run on meanwhile only queued more writes for it to wait for (minutes of fake time, tens of thousands of
    // steps, at load 17).
    const started = stages?.some((stage) => stage.startedAt !== undefined);
    const inFlight = started ? stages?.reduce((sum, stage) => sum + stage.arms.blue.inFlight + stage.arms.green.inFlight, 0) : undefined;
    const moved = inFlight !== undefined && inFlight === upstream.held() && (await clock.advanceToNext());
    // Waiting for an answer, or for the rollout to set a timer or end: a millisecond, not a busy turn of the loop.
    if (!moved) await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
