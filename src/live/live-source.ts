// The proxies' traffic as a TrafficSource: every result each proxy recorded (GET /admin/results, read from the
// cursor the first route set gave) is recorded into the engine's metrics under the stage it was served in, so
// the judge sees exactly what the traffic path saw: fallbacks as green failures, mirror copies as green
// requests. Blue's answers to fallbacks are counted as fallbacks only (see record). Several proxies are summed by recording them all. A proxy silent for a whole lease has gone back
// to blue on its own and its figures stop: the rollout rolls back (see docs/live.md, "A proxy that does not answer").
// A stage's end waits for the requests the proxies still serve in it (catchUp), so a late answer is judged in it.
import type { SentBefore } from '../analysis/quantile.js';
import { steadyNow, type Clock, type TimerHandle } from '../core/clock.js';
import { formatDuration, formatPlural } from '../core/format.js';
import { repeatEvery } from '../engine/repeat.js';
import type { CatchUpWait, TrafficContext, TrafficSource, TrafficSourceFactory } from '../engine/traffic-source.js';
import type { SendTag } from '../metrics/index.js';
import type { ArmName } from '../plan/plan.js';
import type { ResultKind } from '../proxy/metrics.js';
import { FEED_VERSION, type FeedEntry, type FeedInFlight } from '../proxy/results-feed.js';
import type { UpstreamResult } from '../upstream/types.js';
import type { FleetProxy, ProxyFleet } from './fleet.js';
import { isCount, LiveSent, type Instant } from './live-sent.js';
import { sharedUrlMessage } from './process-order.js';

/** Figures (fallbacks, mirrors, per-proxy) are read every this many polls; results every poll. */
const FIGURES_EVERY = 4;
/** Pages one read takes of a proxy at most (a poll's share of a busy proxy; the rest comes at the next). */
const MAX_PAGES = 20;

export interface LiveSourceOptions {
  fleet: ProxyFleet;
  clock: Clock;
  stageCount: number;
  /**
   * A rule compares green with blue (comparesWithBlue): the last stage's end then waits for blue's requests too, whose
   * answers that comparison judges; otherwise for green's alone.
   */
  comparesWithBlue?: boolean;
  /** Told after each poll round (the live view changed). */
  onPoll?: () => void;
  /** Told when a proxy restarted (its results feed began again), so its route can be renewed at once. */
  onRestart?: () => void;
}

export function liveTraffic(options: LiveSourceOptions): TrafficSourceFactory {
  return (context) => new LiveSource(options, context);
}

/** What a proxy last said of its attempts under way, in its feed `epoch`. */
interface InFlightSeen {
  epoch: string;
  inFlight: FeedInFlight;
}

/** A proxy's last attempt begun before a point (its feed `epoch`, its `started` number then). */
type AttemptPoint = { epoch: string; started: number };

/**
 * A stage's cut as the proxies saw it (MetricsRecorder.cut): each proxy's last attempt begun by the stage end's first
 * read, and the tag its later ones are recorded with (sent after the cut: not in the judgement of the stage's end).
 */
interface LiveCut {
  stage: number;
  tag: SendTag;
  points: ReadonlyMap<FleetProxy, AttemptPoint>;
}

class LiveSource implements TrafficSource {
  /**
   * A stage's end is judged on the attempts each proxy began before its first read (LiveCut): a prefix of each proxy's
   * in send order. Proxies before session 28 number no result (FeedEntry.sent): theirs all count, as before.
   */
  readonly tagsSends = true;
  private timer?: TimerHandle;
  /** Set by stop(): the rollout is ending, and a stage's end waiting for the proxies gives up at once. */
  private stopped = false;
  /** Set by cancelAll() (a second Ctrl-C): the ending's drain gives up at once too. */
  private cancelled = false;
  /** Wakes a stage's end sleeping between its reads (stop() calls it). */
  private wake?: () => void;
  /** Each proxy's attempts under way as of its last read (absent: a proxy older than the stage-end wait). */
  private readonly inFlight = new Map<FleetProxy, InFlightSeen>();
  /** Stages whose requests at the proxies the metrics count as in flight (countInFlight), to zero them once done. */
  private readonly inFlightStages = new Set<number>();
  /**
   * While a stage's end waits: each proxy's last attempt begun before it (in its feed then), so every read counts
   * only those; attempts begun during the wait are not waited for (see settle).
   */
  private upTo?: Map<FleetProxy, AttemptPoint>;
  /** The latest stage end's cut, kept while its stage is in force (its wait's last read comes after `upTo` went). */
  private cut?: LiveCut;
  private polls = 0;
  private reading?: Promise<void>;
  private lost = false;
  private lastStage?: number;
  /**
   * Each proxy's requests passed through untouched in each stage (its figures' `stage`), as last read, per process
   * (its feed's epoch, "epoch stage"): a proxy restarted mid-stage counts that stage afresh, and what its old process
   * counted (as last read) is kept beside, not overwritten.
   */
  private readonly passed = new Map<FleetProxy, Map<string, number>>();
  /** Whether each proxy answered at the last poll, to journal when one stops answering and when it is back. */
  private readonly answering = new Map<FleetProxy, boolean>();
  /** Each arm's send times per stage as the proxies report them, for the p95 ratio judged sent-before (LiveSent). */
  private readonly sends = new LiveSent();

  constructor(
    private readonly options: LiveSourceOptions,
    private readonly context: TrafficContext,
  ) {}

  start(): void {
    this.timer = repeatEvery(this.options.clock, this.options.fleet.pollMs, () => void this.poll());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.stopped = true;
    this.wake?.();
  }

  /**
   * The ending's reads: one now, then every poll while the proxies still serve blue's answers to green's fallbacks
   * begun by it (in-flight `fallbacks`, proxies since session 29): green's failure is recorded as blue's attempt
   * begins, the fallback when blue answers, so one read alone could report fewer fallbacks than green's failures
   * that fell back. Nothing else is waited for (an operator's abort over a hanging green ends at once). Bounded on
   * the steady clock by the proxies' stall bound (timeout.request and timeout.idle, the longer arm's; else
   * `timeoutMs`) and a poll, as a stage's end is; what still runs then is said (not in the report's figures). A
   * second Ctrl-C (cancelAll) cuts it short.
   */
  async drain(timeoutMs: number): Promise<void> {
    await this.readNow();
    const upTo = new Map<FleetProxy, AttemptPoint>();
    let boundMs = 0;
    for (const [proxy, seen] of this.inFlight) {
      upTo.set(proxy, { epoch: seen.epoch, started: seen.inFlight.started });
      boundMs = Math.max(boundMs, seen.inFlight.stallTimeoutMs ?? timeoutMs);
    }
    const running = (): number => {
      let requests = 0;
      for (const [proxy, { epoch }] of upTo) {
        const seen = this.inFlight.get(proxy);
        // Those routed after the ending's route are tagged past the last stage and not recorded: not waited for.
        if (seen?.epoch === epoch)
          for (const tag of seen.inFlight.stages) if (tag.stage < this.options.stageCount && isCount(tag.fallbacks)) requests += tag.fallbacks;
      }
      return requests;
    };
    if (running() === 0) return;
    const { clock } = this.options;
    boundMs += this.options.fleet.pollMs;
    const deadline = steadyNow(clock) + boundMs;
    this.upTo = upTo;
    try {
      while (running() > 0 && !this.cancelled && steadyNow(clock) < deadline) {
        await this.sleep(Math.min(this.options.fleet.pollMs, deadline - steadyNow(clock)));
        if (this.cancelled) break;
        await this.readNow();
      }
    } finally {
      this.upTo = undefined;
    }
    const left = running();
    if (left > 0)
      this.context.warn?.(
        `the rollout ended with ${formatPlural(left, 'fallback')} to blue begun before its ending still being answered at the proxies after ${formatDuration(boundMs)} (their upstream timeouts and a poll): green's failures that fell back are in the rollout's figures, ${left === 1 ? 'that fallback is' : 'those fallbacks are'} not`,
      );
  }

  /**
   * A stage's end: a read of every proxy now (after any poll under way), then, while the proxies still serve
   * requests begun in `stage` before now, reads every poll until they have answered, so a late answer (a hanging
   * green's timeout, a slow stream) is judged in its stage. Bounded by the proxies' upstream timeouts (a stream
   * stalled after its first bytes fails on timeout.idle, after timeout.request) and a poll; an ending (stop) cuts it
   * short. `final` (the last stage's end, before the promotion): every stage's requests on green (its split requests
   * and mirror copies, which are judged as green's), and on blue when a rule compares green with blue (otherwise
   * blue's answers judge nothing green is promoted on), bounded by the longest a proxy lets one live (timeout.request, then proxy.limits.max_stream_duration for a stream). Resolves to
   * how many it waited for are still running.
   */
  async catchUp(stage: number, waiting?: (wait: CatchUpWait) => void, final = false): Promise<number> {
    this.cut = undefined;
    const caughtUp = await this.readNow();
    if (this.stopped) return 0;
    // The engine cut the stage before this wait (StageSteps.endStage): what each proxy began by this read is judged.
    const points = new Map<FleetProxy, AttemptPoint>();
    for (const [proxy, seen] of this.inFlight) points.set(proxy, { epoch: seen.epoch, started: seen.inFlight.started });
    this.cut = { stage, tag: this.context.metrics.sendTag(stage), points };
    const running = await this.settle(stage, caughtUp, waiting, final);
    // Then the figures: what the proxies passed through untouched in the stage (passedThrough), counted to its end.
    if (!this.stopped) await Promise.all(this.options.fleet.proxies.map((proxy) => this.readFigures(proxy)));
    return running;
  }

  /**
   * Waits for the attempts each proxy began in `stage` (every stage's on green, `final`) up to the first read (its `started`
   * then). Those begun during the wait go out at the stage's weight as the route has not moved yet (as generated
   * traffic's do): the wait does not wait for them (on a busy proxy it never would end); those answered before the
   * judgement count in it, the rest are late results, judged with their stage at the next judgement. A proxy that
   * restarted (a new feed) has none left (its old process's come through its state folder, said in a warning); one
   * that does not answer holds the stage up to the bound, then it is the unreachable-proxy path (checkSilent, which
   * the wait's reads run too). A read that stopped at its page cap (`caughtUp` false) is followed by another at once.
   */
  private async settle(stage: number, caughtUp: boolean, waiting: ((wait: CatchUpWait) => void) | undefined, final: boolean): Promise<number> {
    const upTo = new Map<FleetProxy, { epoch: string; started: number }>();
    let timeoutMs = 0;
    for (const [proxy, seen] of this.inFlight) {
      upTo.set(proxy, { epoch: seen.epoch, started: seen.inFlight.started });
      const { stallTimeoutMs = 0, longestMs } = seen.inFlight;
      timeoutMs = Math.max(timeoutMs, final ? (longestMs ?? stallTimeoutMs) : stallTimeoutMs);
    }
    const everyArm = this.options.comparesWithBlue === true;
    const counts = (tags: FeedInFlight['stages']): number => {
      let requests = 0;
      // Before the promotion, green's alone unless a rule compares with blue's (a long blue stream held it to the
      // bound, then rolled back: still_running); a proxy before session 18 does not say green's: all of them.
      for (const tag of tags) {
        if (final && tag.stage < this.options.stageCount) requests += everyArm ? tag.requests : (tag.green ?? tag.requests);
        else if (!final && tag.stage === stage) requests += tag.requests;
      }
      return requests;
    };
    const running = (): number => {
      let requests = 0;
      for (const [proxy, { epoch }] of upTo) {
        const seen = this.inFlight.get(proxy);
        if (seen?.epoch === epoch) requests += counts(seen.inFlight.stages);
      }
      return requests;
    };
    if (running() === 0 && caughtUp) return 0;
    const { clock } = this.options;
    const pollMs = this.options.fleet.pollMs;
    const boundMs = timeoutMs + pollMs;
    // On the steady clock: a wall clock stepped forward ended the wait at once (the last stage's then rolled back on
    // still_running), one stepped back made it last an hour more.
    const deadline = steadyNow(clock) + boundMs;
    // Told at once, as generated traffic's wait is: the dashboard and --ci say so while it lasts (they show a
    // snapshot every few seconds, so a wait of a poll or two passes unsaid).
    if (running() > 0) waiting?.({ requests: running, timeoutMs: boundMs, at: 'proxies', ...(final && { beforePromotion: true }) });
    this.upTo = upTo;
    const restarted = new Map<FleetProxy, number>();
    try {
      while ((running() > 0 || !caughtUp) && !this.stopped && steadyNow(clock) < deadline) {
        if (caughtUp) await this.sleep(Math.min(pollMs, deadline - steadyNow(clock)));
        if (this.stopped) return 0;
        const before = this.runningBy(upTo, counts);
        caughtUp = await this.readNow();
        for (const [proxy, requests] of before) if (this.inFlight.get(proxy)?.epoch !== upTo.get(proxy)?.epoch) restarted.set(proxy, requests);
        // The wait's reads stand for the polls they push aside: a proxy falling silent meanwhile is noticed on time.
        this.afterRead();
      }
    } finally {
      this.upTo = undefined;
    }
    for (const [proxy, requests] of restarted) this.saidRestartedDuring(proxy, requests, stage, final);
    const left = running();
    if (left > 0 && !final && !this.stopped && this.context.current() !== undefined)
      this.context.warn?.(
        `stage ${stage + 1} is judged without ${formatPlural(left, 'request')} begun in it and still running at the proxies after their upstream timeouts (timeout.request and timeout.idle) and a poll (${formatDuration(boundMs)}): each is judged with stage ${stage + 1} when it answers, at the rollout's next judgement`,
      );
    if (left > 0 && final && !this.stopped && this.context.current() !== undefined)
      this.context.warn?.(
        `the last stage's end waited ${formatDuration(boundMs)} (the proxies' timeout.request and proxy.limits.max_stream_duration, and a poll) and ${formatPlural(left, 'request')} begun before it ${left === 1 ? 'is' : 'are'} still running at the proxies`,
      );
    if (this.stopped) return 0;
    // A proxy before session 27 counted in the wait's pages only the attempts begun before it (no `all`): those begun
    // during it, at the stage's weight and still running, are the arms' requests in flight the stage is judged with
    // (outcomes unknown), read in full now.
    await this.readNow();
    return left;
  }

  /** Each proxy's requests the wait counts (`counts` of its stage tags) as of its last read, in the feed `upTo` noted. */
  private runningBy(upTo: ReadonlyMap<FleetProxy, { epoch: string }>, counts: (tags: FeedInFlight['stages']) => number): Map<FleetProxy, number> {
    const by = new Map<FleetProxy, number>();
    for (const [proxy, { epoch }] of upTo) {
      const seen = this.inFlight.get(proxy);
      if (seen?.epoch === epoch) by.set(proxy, counts(seen.inFlight.stages));
    }
    return by;
  }

  /** A proxy restarted while the stage's end waited for its requests: where their answers go, said once. */
  private saidRestartedDuring(proxy: FleetProxy, requests: number, stage: number, final: boolean): void {
    if (requests === 0 || this.context.current() === undefined) return;
    const after = final
      ? 'before the promotion only if they arrive before it (none is waited for: a proxy stopped with SIGTERM drains for up to its proxy.limits.drain_timeout)'
      : `with stage ${stage + 1} at the rollout's next judgement after they arrive`;
    this.context.warn?.(
      `proxy ${proxy.client.url} restarted while stage ${stage + 1}'s end waited for ${formatPlural(requests, 'request')} it served: their answers reach the rollout through its state folder if it was stopped (SIGTERM, Ctrl-C), not if it was killed (-9), and are judged ${after}`,
    );
  }

  /** Resolves after `ms` on the rollout's clock, or at once when the rollout ends (stop). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.options.clock.setTimer(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        timer.cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** A read of every proxy now, after any poll under way; resolves to whether every proxy's feed was read to its end. */
  private async readNow(): Promise<boolean> {
    // One read at a time: two from the same cursors would record the same results twice.
    while (this.reading) await this.reading;
    const reading = this.readAll(false);
    this.reading = reading.then(() => undefined);
    try {
      return await reading;
    } finally {
      this.reading = undefined;
    }
  }

  /**
   * The requests the proxies passed through to blue's upstream untouched (other models than blue's and its aliases)
   * in this rollout's stages, as their figures were last read (at each stage's end at the latest): neither arm's,
   * never judged. A proxy restarted in a stage is counted across its processes: each one's count as last read (what
   * an old process passed through after that read is lost with it).
   */
  passedThrough(): number {
    let sum = 0;
    for (const stages of this.passed.values()) for (const requests of stages.values()) sum += requests;
    return sum;
  }

  sent(arm: ArmName, stage: number): SentBefore | undefined {
    return this.sends.view(arm, stage, this.options.fleet.proxies);
  }

  private notePassed(proxy: FleetProxy, figures: { stage?: number; passedThrough?: number }): void {
    // The lifetime figures (no stage set yet) are not this rollout's; a proxy that does not count them says nothing.
    if (figures.stage === undefined || typeof figures.passedThrough !== 'number') return;
    let stages = this.passed.get(proxy);
    if (!stages) this.passed.set(proxy, (stages = new Map<string, number>()));
    // Read right after the feed (read()), whose epoch names the process that answered. A restart between the two
    // reads would file the new process's count (from 0) under the old one's epoch: within one process and stage the
    // count only rises, so the larger stands (review32).
    const key = `${proxy.epoch ?? ''} ${figures.stage}`;
    stages.set(key, Math.max(stages.get(key) ?? 0, figures.passedThrough));
  }

  cancelAll(): void {
    this.cancelled = true;
    this.stop();
  }

  private async poll(): Promise<void> {
    // A read under way (a stage's end reading every poll) stands for this one: its checks still run, on time.
    if (this.reading) {
      await this.reading;
      return this.afterRead();
    }
    this.reading = this.readAll(this.polls++ % FIGURES_EVERY === 0).then(() => undefined);
    try {
      await this.reading;
    } finally {
      this.reading = undefined;
    }
    this.afterRead();
  }

  /** After a read: the live view changed, and a proxy that stopped answering is journaled (and, after a lease, rolled back). */
  private afterRead(): void {
    this.options.onPoll?.();
    this.journalHealth();
    this.checkSilent();
  }

  /** Resolves to whether every proxy's feed was read to its end (none stopped at the page cap). */
  private async readAll(withFigures: boolean): Promise<boolean> {
    const caughtUp = await Promise.all(this.options.fleet.proxies.map((proxy) => this.read(proxy, withFigures)));
    this.countInFlight();
    return caughtUp.every(Boolean);
  }

  /**
   * Each stage and arm's requests still served at the proxies, as of the pages just read, into the metrics: the
   * rate rules count them as outcomes unknown, not as requests never sent (judged on the answered ones alone, a
   * green whose failures answer faster than its successes looks worse than it is early in a stage). Blue's are
   * every attempt not on green, its answers to green's fallbacks included: more unknown on blue only widens.
   */
  private countInFlight(): void {
    if (this.cut && this.context.current()?.stage !== this.cut.stage) this.cut = undefined;
    const by = new Map<number, ArmsInFlight>();
    // Those begun before the cut, of the cut's stage: the running unknowns its end is judged with.
    const judged = noneInFlight();
    const add = (to: ArmsInFlight, tag: FeedInFlight['stages'][number]): void => {
      to.green += tag.green ?? 0;
      // A proxy before session 29 does not say which stream: every one of green's may (ttft_p95's unknowns).
      to.greenStreamed += isCount(tag.greenStreamed) ? Math.min(tag.greenStreamed, tag.green ?? 0) : (tag.green ?? 0);
      to.blue += Math.max(0, tag.requests - (tag.green ?? 0));
    };
    // A proxy before session 18 says no split: nothing is known of its arms. Counts come over the network: any
    // but whole numbers (a server that is no bluegreen proxy) would make the arms' figures text or NaN.
    const valid = (tag: FeedInFlight['stages'][number]): boolean =>
      isCount(tag.stage) && tag.stage < this.options.stageCount && isCount(tag.requests) && isCount(tag.green);
    for (const proxy of this.options.fleet.proxies) {
      const seen = this.inFlight.get(proxy);
      if (!seen || seen.epoch !== proxy.epoch) continue;
      // A page read while a stage's end waits counts in `stages` only the attempts begun before it; `all` counts every one.
      const { all, stages, sentTagged } = seen.inFlight;
      const every = Array.isArray(all) ? all : Array.isArray(stages) ? stages : [];
      for (const tag of every) {
        if (!valid(tag)) continue;
        const arms = by.get(tag.stage) ?? noneInFlight();
        add(arms, tag);
        by.set(tag.stage, arms);
      }
      // A proxy that numbers its results was read up to the cut (`stages`); one that does not has all of its judged.
      const cutSeen = this.cut?.points.get(proxy)?.epoch === seen.epoch && sentTagged === true;
      for (const tag of cutSeen && Array.isArray(stages) ? stages : every) if (valid(tag) && tag.stage === this.cut?.stage) add(judged, tag);
    }
    // A stage counted before and under way nowhere now: nothing of it runs at the proxies any more.
    for (const stage of this.inFlightStages) if (!by.has(stage)) by.set(stage, noneInFlight());
    if (this.cut && !by.has(this.cut.stage)) by.set(this.cut.stage, noneInFlight());
    this.inFlightStages.clear();
    for (const [stage, arms] of by) {
      const before = stage === this.cut?.stage ? judged : arms;
      const streamed = { all: arms.greenStreamed, beforeCut: before.greenStreamed };
      this.context.metrics.setInFlightAtProxies(stage, 'green', arms.green, before.green, streamed);
      this.context.metrics.setInFlightAtProxies(stage, 'blue', arms.blue, before.blue);
      if (arms.blue + arms.green > 0) this.inFlightStages.add(stage);
    }
  }

  /**
   * Reads one proxy's results up to MAX_PAGES pages; false when it stopped there with more to read (a stage's end
   * reads again at once: the in-flight counts of its last page may say done of requests whose results it has not read).
   */
  private async read(proxy: FleetProxy, withFigures: boolean): Promise<boolean> {
    if (proxy.cursor === undefined) return true;
    let caughtUp = false;
    try {
      // Pages until caught up: a busy proxy may have more than one page since the last poll.
      for (let pages = 0; pages < MAX_PAGES && !caughtUp; pages++) {
        // After the wait, the cut's point of a proxy that numbers its results (it says `all` beside): its last read
        // counts apart those begun before the cut (countInFlight). An older proxy's page would then count no others.
        const upTo = this.upTo?.get(proxy) ?? (this.inFlight.get(proxy)?.inFlight.sentTagged === true ? this.cut?.points.get(proxy) : undefined);
        // When the page was asked for and came back on this machine (steady and wall clocks): several proxies' look (LiveSent).
        let asked = this.instant();
        let page = await proxy.client.results(proxy.cursor, proxy.epoch, upTo?.epoch === proxy.epoch ? upTo?.started : undefined);
        let answered = this.instant();
        // Two processes answering at this URL (a load balancer): no page of either is this URL's feed to record or
        // take a restart from. The rollout stops on it (checkSilent).
        if (proxy.client.processes.twoAnswering !== undefined) return true;
        // A proxy restarted since the last read numbers its results from 1 again: read them from the start.
        // Its feed's epoch says so; a head below the cursor says so too when the restart came before any read.
        const newFeed = proxy.epoch !== undefined && page.epoch !== proxy.epoch;
        // A new feed is a restart, or a second process behind the URL (a load balancer) answering for the first time:
        // a few more reads (the preflight's) find the old one still answering before anything is read as a restart.
        if (newFeed && (await proxy.client.lookForOtherProcesses()) !== undefined) return true;
        const restarted = newFeed || page.head < proxy.cursor;
        if (restarted) {
          // What the old process recorded after the last read, and what it served while draining, comes in this
          // feed if it was stopped (SIGTERM, Ctrl-C) and could write it to its state folder; a kill -9 loses it.
          this.context.warn?.(
            `proxy ${proxy.client.url} restarted: its results are read again from its new start; those its old process recorded after the last read (and while draining) reach the rollout through its state folder if it was stopped (SIGTERM, Ctrl-C), not if it was killed (-9)`,
          );
          this.options.onRestart?.();
          // The old process's sends in the stage in force are lost with it (its results may come handed over).
          this.sends.lost(proxy, this.context.current()?.stage ?? this.lastStage);
          this.sends.forget(proxy);
          proxy.restarted();
          asked = this.instant();
          page = await proxy.client.results(0, page.epoch);
          answered = this.instant();
          if (proxy.client.processes.twoAnswering !== undefined) return true;
        }
        proxy.epoch = page.epoch;
        // A newer proxy's feed may carry what this rollout cannot weigh (as handovers were to older rollouts): said once.
        if ((page.version ?? 1) > FEED_VERSION && !proxy.newerFeedSaid) {
          proxy.newerFeedSaid = true;
          this.context.warn?.(
            `proxy ${proxy.client.url} serves results feed version ${page.version}, newer than this bluegreen's ${FEED_VERSION}: its results may be judged wrongly (twice, or another rollout's); upgrade the rollout's bluegreen with the proxies`,
          );
        }
        for (const entry of page.results)
          if (proxy.takes(entry))
            this.sends.result(proxy, page.epoch, entry, this.record(entry.stage, entry.result, entry.quality, entry.kind, this.sendTag(proxy, entry)));
        // Results that fell out of the proxy's ring before the rollout read them: shown, never invented.
        if (page.missed > 0) {
          proxy.view.missed = (proxy.view.missed ?? 0) + page.missed;
          this.sends.lost(proxy, this.context.current()?.stage ?? this.lastStage);
        }
        // Caught up with the proxy's newest result: no second call just to hear there is nothing more.
        const done = page.results.length === 0 || page.next >= page.head;
        proxy.cursor = page.next;
        // Taken with the page: what was under way then has answered in a later page, or is still running.
        if (page.inFlight) this.inFlight.set(proxy, { epoch: page.epoch, inFlight: ownInFlight(page.inFlight, proxy) });
        else this.inFlight.delete(proxy);
        const inFlight = this.inFlight.get(proxy)?.inFlight;
        this.sends.page(proxy, page.epoch, { blue: inFlight?.blueSent, green: inFlight?.greenSent }, { asked, answered });
        caughtUp = done;
      }
      proxy.answered();
      if (withFigures) await this.readFigures(proxy);
    } catch (error) {
      // Its last page read stays its look at the arms' sends (LiveSent): the results recorded from it are those up to it.
      proxy.failed(error);
      // Nothing more to read from it now: its silence is checkSilent's.
      return true;
    }
    return caughtUp;
  }

  /** Now on this machine's steady and wall clocks. */
  private instant(): Instant {
    return { steady: steadyNow(this.options.clock), wall: this.options.clock.now() };
  }

  /**
   * The proxy's figures (the dashboard's view, what it passed through untouched). A proxy whose results just came is
   * not called silent when this second call fails: the view keeps its last figures, and the next read tries again.
   */
  private async readFigures(proxy: FleetProxy): Promise<void> {
    try {
      this.notePassed(proxy, (proxy.view.figures = (await proxy.client.figures()).stage));
    } catch {
      // Only the view and the passthrough count lag; the proxy's health is its results feed's.
    }
  }

  /**
   * An entry of the cut stage whose attempt the proxy began after the cut: the cut's tag; otherwise none (judged). A
   * result a stopped proxy handed over is numbered in its own feed (its origin's `sent`): told apart when the cut was
   * taken in that feed (the proxy stopped during the stage's end), judged otherwise. The proxy's own feed, when not the
   * one the cut was taken in, started after the cut (it restarted since): every attempt in it began after the cut. An
   * entry without a stage (a restarted proxy's, before the next renewal) is of the stage in force, as record() takes it.
   */
  private sendTag(proxy: FleetProxy, entry: FeedEntry): SendTag | undefined {
    const point = this.cut?.points.get(proxy);
    if (!this.cut || !point || (entry.stage ?? this.context.current()?.stage) !== this.cut.stage) return undefined;
    if (entry.origin === undefined && proxy.epoch !== point.epoch) return this.cut.tag;
    const { epoch, sent } = entry.origin ?? { epoch: proxy.epoch, sent: entry.sent };
    return epoch === point.epoch && isCount(sent) && sent > point.started ? this.cut.tag : undefined;
  }

  /** Resolves to the stage the result was filed under; undefined when none (not this rollout's stages). */
  private record(
    stage: number | undefined,
    result: UpstreamResult,
    quality: { ok: boolean; reason?: string },
    kind: ResultKind,
    tag?: SendTag,
  ): number | undefined {
    // A proxy restarted since the last route set tags its results with no stage until the next renewal: they
    // belong to the stage in force, or, read in the last drain after the rollout ended, to its last stage.
    const current = this.context.current();
    if (current) this.lastStage = current.stage;
    const at = stage ?? this.lastStage;
    if (at === undefined || at < 0 || at >= this.options.stageCount) return undefined;
    // Blue's answer to a failed green attempt is not a request the split sent blue: it is one green failed on.
    // Judged as blue's, a request both arms fail (a client's bad request, a prompt too long for both models)
    // counted twice against blue and once against green, so the comparisons with blue hid as much of green's
    // own failures (3% of such requests at 50% green made blue look 2.8 points worse than it was).
    if (kind !== 'fallback') this.context.metrics.recordResult(at, result, quality, tag);
    this.options.fleet.count(at, result, kind);
    // In no judged sample (the recorder counts it apart): neither a failure to journal nor a green result to judge.
    if (result.neutral) return at;
    if (!result.ok) this.context.onFailure?.(result.arm, result);
    if (result.arm === 'green') this.context.onGreenResult(result, quality);
    return at;
  }

  /** Journals each proxy that stops answering, and each that answers again (a blip shorter than the lease). */
  private journalHealth(): void {
    if (!this.context.current()) return;
    for (const proxy of this.options.fleet.proxies) {
      const now = proxy.view.reachable;
      const before = this.answering.get(proxy) ?? true;
      this.answering.set(proxy, now);
      if (before && !now)
        this.context.warn?.(
          `proxy ${proxy.client.url} is not answering (${proxy.view.error ?? 'no answer'}); it returns to blue by its lease if this lasts, and the rollout rolls back after ${formatDuration(this.options.fleet.leaseMs)} of silence`,
        );
      if (!before && now) this.context.warn?.(`proxy ${proxy.client.url} answers again`);
      if (proxy.lapsedAt !== undefined) {
        // Nobody renewed its lease for a whole lease (this rollout suspended, say by a laptop's sleep, or cut off; or
        // the proxy down across it, restarted): it served blue for a while, and this stage's figures hold less green
        // than its duration says. A restart is known (its feed began again); otherwise the cause is not.
        const why = proxy.lapsedOnRestart
          ? 'the proxy restarted (its results feed began again) and its saved route had outlived its lease'
          : 'no renewal reached it for a whole lease: this rollout was suspended or cut off from it';
        this.context.warn?.(
          `proxy ${proxy.client.url} had gone back to blue by its lease at ${new Date(proxy.lapsedAt).toISOString()} (${why}); its stage's route is set again`,
        );
        proxy.lapsedAt = undefined;
        proxy.lapsedOnRestart = false;
      }
    }
  }

  /**
   * A proxy silent for a whole lease is on blue by now, and its users' figures are lost to the judge. An admin URL
   * that more than one proxy process answers cannot be driven: each read and route reaches either.
   */
  private checkSilent(): void {
    if (this.lost || !this.context.current()) return;
    const shared = this.options.fleet.proxies.find((proxy) => proxy.client.processes.twoAnswering !== undefined);
    const feeds = shared?.client.processes.twoAnswering;
    if (shared && feeds) return this.lose(`proxy ${sharedUrlMessage(shared.client.url, feeds)}; rolling every proxy back`);
    // A proxy refusing this rollout's routes (it serves another plan, or someone else set its route since: an
    // operator's blue by hand, another rollout) still answers reads, so it is no silence to wait out.
    const refusing = this.options.fleet.proxies.find((proxy) => proxy.refusal !== undefined);
    if (refusing) return this.lose(`proxy ${refusing.client.url} refused this rollout's route (${refusing.refusal ?? ''}); rolling every proxy back`);
    const lease = this.options.fleet.leaseMs;
    const silent = this.options.fleet.proxies.find((proxy) => proxy.silentFor() >= lease);
    if (!silent) return;
    this.lost = true;
    this.context.breach?.({
      rule: 'proxy_unreachable',
      figure: silent.silentFor(),
      limit: lease,
      unit: 'ms',
      sample: 0,
      message: `proxy ${silent.client.url} has not answered for ${formatDuration(silent.silentFor())} (${silent.view.error ?? 'no answer'}): its lease ran out and it serves blue; rolling every proxy back`,
    });
  }

  /** A proxy this rollout cannot drive (it refuses its routes, or one URL reaches several): a breach of rule `hook`. */
  private lose(message: string): void {
    this.lost = true;
    this.context.breach?.({ rule: 'hook', figure: null, limit: 0, unit: 'count', sample: 0, message });
  }
}

/** A stage's requests under way at the proxies, per arm, and of green's the streamed ones (or not known not to be). */
interface ArmsInFlight {
  blue: number;
  green: number;
  greenStreamed: number;
}

function noneInFlight(): ArmsInFlight {
  return { blue: 0, green: 0, greenStreamed: 0 };
}

/**
 * A page's attempts under way of this run's stage tags alone: another run's stage 2 (a rollout that ended here, its
 * long streams still running) is not this run's, neither to wait for nor to count. A tag naming no run (a proxy
 * before session 28, a stage set by hand) counts. Tags that are no objects, and lists that are none, read as none.
 */
function ownInFlight(inFlight: FeedInFlight, proxy: FleetProxy): FeedInFlight {
  const ours = (tag: unknown): boolean => {
    if (typeof tag !== 'object' || tag === null) return false;
    const { controller } = tag as { controller?: unknown };
    return controller === undefined || (typeof controller === 'string' && proxy.ownsRoute({ controller }));
  };
  const own = <T>(tags: T[] | undefined): T[] | undefined => (Array.isArray(tags) ? tags.filter(ours) : undefined);
  return { ...inFlight, stages: own(inFlight.stages) ?? [], all: own(inFlight.all), blueSent: own(inFlight.blueSent), greenSent: own(inFlight.greenSent) };
}
