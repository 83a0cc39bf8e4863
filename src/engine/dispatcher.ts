// Sends each arriving request to the arm the splitter picks, within max_in_flight, and records the result.
import type { ArmName } from '../plan/plan.js';
import type { MetricsRecorder, SendTag } from '../metrics/index.js';
import { SignalWatch } from '../upstream/signal-watch.js';
import type { UpstreamResult } from '../upstream/types.js';
import type { ArmClient, RequestSource, Splitter } from './deps.js';
import { errorText } from '../core/errors.js';
import { Slots } from '../core/slots.js';

export interface DispatcherOptions {
  clients: Record<ArmName, ArmClient>;
  traffic: RequestSource;
  splitter: Splitter;
  metrics: MetricsRecorder;
  maxInFlight: number;
  checkQuality: (result: UpstreamResult) => { ok: boolean; reason?: string };
  /** Called after each green result is recorded, so fast rules (consecutive errors) act at once. */
  onGreenResult: (result: UpstreamResult, quality: { ok: boolean }) => void;
  /** Told of every failed result (after it is recorded), e.g. to report the first of each kind. */
  onFailure?: (arm: ArmName, result: UpstreamResult) => void;
  /**
   * Told of each green request's start and end (`cancelled`: with no result), when the plan has latency rules (see
   * OverdueWatch) or the p95 ratio (ArmSends).
   */
  greenWatch?: { started(stage: number): number; ended(id: number, cancelled?: boolean): void };
  /** Told of each blue request's start and end (`cancelled`: with no result), when the plan has the p95 ratio (ArmSends). */
  blueWatch?: { started(stage: number): number; ended(id: number, cancelled: boolean): void };
  /**
   * Told when recording a result threw (a bug in a quality check, a rule or the metrics): the rollout cannot go on
   * judging figures that miss it, so the engine ends it on blue (RolloutEngine.fail). The request still settles.
   */
  onError: (error: unknown) => void;
}

/** A request in flight: a stage's end waits for its own (see settled); the last stage's end, for green's of every stage. */
interface Sent {
  readonly stage: number;
  readonly green: boolean;
  /** Settles once the result is recorded (or recording it failed, and onError was told); never rejects. */
  readonly done: Promise<void>;
  over: boolean;
}

export class Dispatcher {
  private inFlight = 0;
  /** In slots, not a Set: a churned Set's old tables would be old-generation garbage each few requests (src/core/slots.ts). */
  private readonly pending = new Slots<Sent>();
  /** Ends every settled() wait under way (the rollout is ending). */
  private readonly waitEnders = new Set<() => void>();
  private readonly abort = new AbortController();
  /** The one watch on `abort`'s signal every request in flight joins (src/upstream/signal-watch.ts). */
  private readonly cancel = new SignalWatch(this.abort.signal);
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: DispatcherOptions) {}

  /** One arrival: at the given stage and weight. Returns the arm chosen, or undefined if dropped. */
  dispatch(stage: number, greenWeight: number): ArmName {
    const { traffic, splitter, metrics, clients, maxInFlight } = this.options;
    const request = traffic.next();
    const arm = splitter.choose(greenWeight, request.stickyKey);
    if (this.inFlight >= maxInFlight) {
      // Open model: never queue. A dropped request is counted, so the operator sees the upstream cannot keep up.
      metrics.recordDropped(stage, arm);
      return arm;
    }
    this.inFlight++;
    const tag = metrics.recordDispatch(stage, arm, request.stream);
    const watchId = arm === 'green' ? this.options.greenWatch?.started(stage) : this.options.blueWatch?.started(stage);
    // Settled once, whichever way the request ends: a settle that throws (a bug in a check or a rule) is not taken
    // for the request failing and settled again (green's watch told twice, a made-up connection failure recorded).
    // Its error goes to onError before `done` resolves, so a stage's end waiting on it finds the rollout ending
    // rather than judging figures without it; and `done` never rejects (no unhandled rejection when nothing waits).
    const done = clients[arm]
      .send(request, this.cancel)
      .then(
        (result) => this.settle(stage, arm, result, watchId, tag, request.stream),
        (error: unknown) => this.settle(stage, arm, abortedResult(arm, request.stream, error), watchId, tag, request.stream),
      )
      .catch((error: unknown) => this.options.onError(new Error(`recording a ${arm} request's result failed: ${errorText(error)}`, { cause: error })))
      .finally(() => {
        this.inFlight--;
        sent.over = true;
        this.pending.remove(slot);
        if (this.inFlight === 0) this.wakeIdle();
      });
    const sent: Sent = { stage, green: arm === 'green', done, over: false };
    const slot = this.pending.add(sent);
    return arm;
  }

  /** `stream`: the request's, as recordDispatch counted it in flight (a client's result may not echo it). */
  private settle(stage: number, arm: ArmName, result: UpstreamResult, watchId: number | undefined, tag: SendTag, stream: boolean): void {
    // Before recording: the analysis this result may trigger must not count it twice (running and done).
    // A request the ending cancelled (second Ctrl-C, drain timeout) says nothing about the upstream: it is no
    // result (no failure in the figures or the reports, no warning, no streak), only no longer in flight.
    const cancelled = !result.ok && this.abort.signal.aborted;
    if (watchId !== undefined) {
      if (arm === 'green') this.options.greenWatch?.ended(watchId, cancelled);
      else this.options.blueWatch?.ended(watchId, cancelled);
    }
    if (cancelled) {
      this.options.metrics.recordCancelled(stage, arm, stream, tag);
      return;
    }
    const quality = result.ok ? this.options.checkQuality(result) : { ok: true };
    this.options.metrics.recordResult(stage, result, quality, tag, stream);
    if (!result.ok) this.options.onFailure?.(arm, result);
    if (arm === 'green') this.options.onGreenResult(result, quality);
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /**
   * Waits until every request sent at `stage` (or at any, `every`; green's at any, `every green`) so far has answered (and been recorded), or timeoutMs passed, or
   * endWaits() was called; resolves to how many were still running. Requests sent after the call are not waited
   * for: arrivals go on during the wait, and waiting for those too would under steady load never end before the
   * timeout. Nothing is cancelled: a request still running goes on and is recorded when it answers. `onWait` is
   * told, as the wait begins, how to count the requests it still waits for.
   */
  async settled(
    stage: number | 'every' | 'every green',
    timeoutMs: number,
    setTimer: (fn: () => void, ms: number) => { cancel(): void },
    onWait?: (running: () => number) => void,
  ): Promise<number> {
    const waiting = this.pending.values().filter((sent) => (stage === 'every' ? true : stage === 'every green' ? sent.green : sent.stage === stage));
    if (waiting.length === 0) return 0;
    const running = (): number => waiting.filter((sent) => !sent.over).length;
    onWait?.(running);
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        timer.cancel();
        this.waitEnders.delete(finish);
        resolve();
      };
      const timer = setTimer(finish, timeoutMs);
      this.waitEnders.add(finish);
      void Promise.allSettled(waiting.map((sent) => sent.done)).then(finish);
    });
    return running();
  }

  /** Ends every settled() wait at once: the rollout is ending, and its ending waits for (or cancels) the rest. */
  endWaits(): void {
    for (const finish of [...this.waitEnders]) finish();
  }

  /** Waits for in-flight requests to finish; after timeoutMs the rest are cancelled. */
  async drain(timeoutMs: number, setTimer: (fn: () => void, ms: number) => { cancel(): void }): Promise<void> {
    if (this.inFlight === 0) return;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    const timer = setTimer(() => this.abort.abort(new Error('drain timed out')), timeoutMs);
    await idle;
    timer.cancel();
  }

  /** Cancels everything in flight at once (second Ctrl-C). */
  cancelAll(): void {
    this.abort.abort(new Error('cancelled'));
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

function abortedResult(arm: ArmName, stream: boolean, error: unknown): UpstreamResult {
  return {
    arm,
    model: '',
    ok: false,
    failure: 'connection',
    errorMessage: `${arm} arm: request cancelled (${errorText(error)})`,
    content: '',
    latencyMs: 0,
    attempts: 1,
    stream,
  };
}
