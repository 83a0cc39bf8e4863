// The skeleton every undici dispatch handler of ours shares (the engine's exchange, the proxy's forwarding):
// the controller (and an abort asked for before undici handed it over), the request and stream-idle timers, the
// caller's cancel signal, and settling once. Subclasses read the answer and decide what settling means.
//
// dispatch() with a handler rather than request(): no Readable body stream, no per-request AbortController, and
// one listener per caller signal serves every request in flight on it. Benchmarks: docs/benchmarks.md.
import { formatDuration } from '../core/format.js';
import type { Dispatcher } from 'undici';
import type { HeaderMap } from './classify.js';
import { SignalWatch, type Cancellable } from './signal-watch.js';

/** Something that can cancel a request: a shared signal's SignalWatch, or a lighter per-request link (src/proxy/client-link.ts). */
export interface CancelSource {
  readonly aborted: boolean;
  readonly reason: unknown;
}

/** Our own timers, so a timeout can be told apart from a dead connection. */
export interface DispatchTimeouts {
  /** The whole exchange, body included. */
  requestMs: number;
  /** Longest silence between chunks of a streamed 2xx body. */
  idleMs: number;
}

export interface DispatchRequest {
  /** Scheme, host and port: needed by an agent (a proxy) that serves several origins; a pool knows its own. */
  origin?: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Path and query, relative to the dispatcher's origin. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

function armRequestTimer(dispatch: { armRequestTimer(): void }): void {
  dispatch.armRequestTimer();
}

/** What a RequestTimerBatch arms: a dispatch whose request timer runs out with the others started in its turn. */
export interface BatchedTimer {
  /** Its request timer's duration, or undefined when it needs none now (over already, or its timer moved). */
  requestTimerMs(): number | undefined;
  /** It is `group`'s member at `slot` (TimerGroup.leave takes it out). */
  joinTimerGroup(group: TimerGroup, slot: number): void;
  /** Its group's timer ran out while it was a member. */
  groupExpired(): void;
}

function expireGroup(group: TimerGroup): void {
  group.expire();
}

/**
 * The request timers of the dispatches armed in one turn with one duration, as one Node timer: armed together, they
 * would run out together. A member that ends leaves (its slot emptied: the group holds no finished request), and the
 * timer is cleared once none is left.
 */
export class TimerGroup {
  private readonly members: (BatchedTimer | undefined)[] = [];
  private live = 0;
  private timer?: NodeJS.Timeout;

  constructor(readonly ms: number) {}

  add(member: BatchedTimer): void {
    this.live++;
    member.joinTimerGroup(this, this.members.push(member) - 1);
  }

  start(): void {
    this.timer = setTimeout(expireGroup, this.ms, this);
  }

  leave(slot: number): void {
    this.members[slot] = undefined;
    if (--this.live === 0) clearTimeout(this.timer);
  }

  expire(): void {
    const { members } = this;
    for (let i = 0; i < members.length; i++) {
      const member = members[i];
      if (member === undefined) continue;
      members[i] = undefined;
      member.groupExpired();
    }
    this.live = 0;
  }
}

/**
 * The request timers of the dispatches started in one turn of the event loop, armed together from one immediate
 * (see TimedDispatch.start), one Node timer for each duration among them (TimerGroup): not an immediate with its
 * argument list, a Node timer and a closure a request. In a busy proxy many requests start in one turn (the proxy's
 * targets share one batch: src/proxy/targets.ts).
 */
export class RequestTimerBatch {
  private readonly started: BatchedTimer[] = [];
  /** The turn's groups, one a duration: one or two (blue's and green's timeout.request). */
  private readonly groups: TimerGroup[] = [];

  private readonly run = (): void => {
    const { started, groups } = this;
    for (let i = 0; i < started.length; i++) {
      const dispatch = started[i] as BatchedTimer;
      const ms = dispatch.requestTimerMs();
      if (ms === undefined) continue;
      let group = groups.find((one) => one.ms === ms);
      if (group === undefined) groups.push((group = new TimerGroup(ms)));
      group.add(dispatch);
    }
    for (const group of groups) group.start();
    // Emptied, not replaced: the dispatches are not kept past their turn, and the arrays are made once.
    started.length = 0;
    groups.length = 0;
  };

  add(dispatch: BatchedTimer): void {
    if (this.started.push(dispatch) === 1) setImmediate(this.run);
  }
}

export abstract class TimedDispatch<T> implements Dispatcher.DispatchHandler, Cancellable, BatchedTimer {
  protected settled = false;
  /** The request is over on the wire (completed or failed): nothing more will arrive. */
  protected finished = false;
  protected controller?: Dispatcher.DispatchController;
  /** An abort asked for before undici handed us the controller; applied as soon as it does. */
  private pendingAbort?: Error;
  /** Which of our timers fired, when one did. */
  protected expired?: 'request' | 'idle';
  protected status?: number;
  protected headers?: HeaderMap;
  private requestTimer?: NodeJS.Timeout;
  /** The group its request timer runs out with (RequestTimerBatch), and its slot there, instead of requestTimer. */
  private timerGroup?: TimerGroup;
  private groupSlot = 0;
  private idleTimer?: NodeJS.Timeout;
  /** Its slot among the requests on the caller's SignalWatch, while it is there. */
  private watchSlot?: number;
  private resolve?: (value: T) => void;
  private reject?: (reason: unknown) => void;

  constructor(
    protected readonly timeouts: DispatchTimeouts,
    /** Cancelling rejects with its reason. A SignalWatch is joined here; another CancelSource calls cancel() itself. */
    protected readonly canceller?: CancelSource,
    /** Arms the request timer with the others started in the same turn; none: an immediate of its own. */
    private readonly timerBatch?: RequestTimerBatch,
  ) {}

  /** Starts the request; the promise settles once (rejecting only when the canceller cancels it). */
  run(dispatcher: Dispatcher, request: DispatchRequest): Promise<T> {
    if (this.canceller?.aborted) return Promise.reject(this.canceller.reason);
    return new Promise<T>((resolve, reject) => this.start(dispatcher, request, resolve, reject));
  }

  /**
   * run() without a promise, for a hot path: `done` or `failed` (the canceller cancelled it) is called once,
   * never synchronously from here unless the canceller has already cancelled.
   */
  start(dispatcher: Dispatcher, request: DispatchRequest, done: (value: T) => void, failed: (reason: unknown) => void): void {
    if (this.canceller?.aborted) return failed(this.canceller.reason);
    this.resolve = done;
    this.reject = failed;
    if (this.canceller instanceof SignalWatch) this.watchSlot = this.canceller.watch(this);
    try {
      dispatcher.dispatch(
        {
          origin: request.origin,
          method: request.method,
          path: request.path,
          headers: request.headers,
          body: request.body,
          // Our timers replace undici's, which would fail with errors we could not tell apart.
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        this,
      );
    } catch (error) {
      this.onResponseError(undefined, error as Error);
    }
    // Started once undici has written the request, so making a timer (a Node timer list made, at a low rate) is not
    // part of the request's way upstream. undici writes a request on a kept-alive socket from an immediate (it
    // looks for the socket's close first, GHSA-35p6-xmwp-9g52), queued within dispatch: this one runs after it (a
    // batch's, after the turn's first request's). Not when the request already failed.
    if (this.finished) return;
    if (this.timerBatch) this.timerBatch.add(this);
    else setImmediate(armRequestTimer, this);
  }

  /** The request timer from start(), unless the request is over (or settled) or its timer already moved (a stream's first bytes). */
  armRequestTimer(): void {
    if (this.requestTimerMs() === undefined) return;
    this.requestTimer = setTimeout(() => this.expire('request'), this.timeouts.requestMs);
  }

  requestTimerMs(): number | undefined {
    return this.finished || this.settled || this.requestTimer !== undefined || this.timerGroup !== undefined ? undefined : this.timeouts.requestMs;
  }

  joinTimerGroup(group: TimerGroup, slot: number): void {
    this.timerGroup = group;
    this.groupSlot = slot;
  }

  groupExpired(): void {
    // Out of the group already (it emptied the slot): clearTimers must not leave it again.
    this.timerGroup = undefined;
    this.expire('request');
  }

  private leaveTimerGroup(): void {
    if (this.timerGroup === undefined) return;
    this.timerGroup.leave(this.groupSlot);
    this.timerGroup = undefined;
  }

  // --- undici handler (subclasses implement onResponseStart/Data/End/Error) --------------------------------

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.pendingAbort) controller.abort(this.pendingAbort);
  }

  abstract onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: HeaderMap): void;
  abstract onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void;
  abstract onResponseEnd(controller: Dispatcher.DispatchController, trailers: HeaderMap): void;
  abstract onResponseError(controller: Dispatcher.DispatchController | undefined, error: Error): void;

  // --- our side -------------------------------------------------------------------------------------------

  /** The caller gave up: the request is aborted and the promise rejects with `reason`. */
  cancel(reason: unknown): void {
    this.abort(reason instanceof Error ? reason : new Error(String(reason)));
    this.fail(reason);
  }

  /** Our timer fired: abort, then settle as the subclass's timeout failure. */
  protected abstract timedOut(kind: 'request' | 'idle'): void;

  private expire(kind: 'request' | 'idle'): void {
    this.expired ??= kind;
    this.abort(new Error(kind === 'request' ? 'request timeout' : 'stream idle timeout'));
    // Settled now, not when undici reports the abort: a connect still pending would report it much later.
    this.timedOut(kind);
  }

  protected timeoutReason(kind: 'request' | 'idle'): string {
    return kind === 'request' ? `request timeout, ${formatDuration(this.timeouts.requestMs)}` : `stream idle for ${formatDuration(this.timeouts.idleMs)}`;
  }

  protected abort(reason: Error): void {
    if (this.finished) return;
    this.clearTimers();
    if (this.controller) this.controller.abort(reason);
    else this.pendingAbort ??= reason;
  }

  protected armIdle(): void {
    // One timer per request, restarted per chunk (refresh) rather than a new one each time.
    if (this.idleTimer) this.idleTimer.refresh();
    else this.idleTimer = setTimeout(() => this.expire('idle'), this.timeouts.idleMs);
  }

  /** The request timer fires `ms` from now instead (a proxied stream past its first byte: src/proxy/forwarding.ts). */
  protected restartRequestTimer(ms: number): void {
    if (this.finished) return;
    this.leaveTimerGroup();
    clearTimeout(this.requestTimer);
    this.requestTimer = setTimeout(() => this.expire('request'), ms);
  }

  private clearTimers(): void {
    this.leaveTimerGroup();
    clearTimeout(this.requestTimer);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  protected finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearTimers();
    if (this.watchSlot !== undefined) (this.canceller as SignalWatch).unwatch(this.watchSlot);
    this.detached();
  }

  /** The request is over: a subclass drops its link to a per-request canceller here. */
  protected detached(): void {}

  protected settle(value: T): void {
    if (this.settled) return;
    this.settled = true;
    (this.resolve as (value: T) => void)(value);
  }

  protected fail(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.finish();
    (this.reject as (reason: unknown) => void)(reason);
  }
}
