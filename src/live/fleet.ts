// The proxies a live rollout drives, and what the rollout knows of each: the route it last set, the lease, the
// last contact, the results cursor and the live figures per stage. The actuator writes the routes, the live
// source reads the results; both go through here, and the dashboard, status and live.json read it.
import { randomUUID } from 'node:crypto';
import { FeedsRead } from './feeds-read.js';
import { liveResumeRecord, type LiveResume } from './resume-record.js';
import { steadyNow, type Clock } from '../core/clock.js';
import type { ArmName } from '../plan/plan.js';
import type { ProxyFigures, ResultKind } from '../proxy/metrics.js';
import type { UpstreamResult } from '../upstream/types.js';
import type { FeedEntry } from '../proxy/results-feed.js';
import type { Route } from '../proxy/route.js';
import { AdminCallError, AdminClient, type RouteAnswer, type RouteSet } from './admin-client.js';
import { errorText } from '../core/errors.js';

export interface LiveArmCount {
  requests: number;
  failures: number;
  /** Neutral results (UpstreamResult.neutral: in no judged sample), not in `requests`; absent when none. Blue's answers to fallbacks stay in `requests`. */
  neutral?: number;
}

/** What the proxies served in one stage, summed over them: the live half of a stage's figures. */
export interface LiveStageFigures {
  stage: number;
  arms: Record<ArmName, LiveArmCount>;
  /** Green attempts answered by blue (their green failure is in arms.green). */
  fallbacks: number;
  /** Copies sent to green in the background (counted in arms.green). */
  mirrors: number;
}

export interface ProxyView {
  url: string;
  reachable: boolean;
  /** The route as this rollout last set it on the proxy. */
  greenWeight: number;
  mirror: number;
  promotedArm?: ArmName;
  /** Epoch ms, by the proxy's clock, when its lease runs out unless renewed. */
  leaseExpiresAt?: number;
  lastContactAt?: number;
  /** Since when the proxy has not answered (absent while it answers). */
  unreachableSince?: number;
  error?: string;
  /**
   * Why the proxy could not save the last route this rollout set there, which it took (its admin API's 500: its state
   * folder full or read-only): its route file says less than it serves. Absent once a route is saved again.
   */
  unsaved?: string;
  /**
   * Why the proxy refused the last route this rollout set there (its 409: it serves another plan, or someone else set
   * its route since): it answered, so it is reachable, and keeps the route it has. Absent once it takes one again.
   */
  refused?: string;
  /** Results that fell out of the proxy's ring before the rollout read them. */
  missed?: number;
  /** The proxy's own figures for the stage, from GET /admin/figures. */
  figures?: ProxyFigures;
}

export interface LiveView {
  leaseMs: number;
  /** The rollout also sends the plan's generated traffic (judged with the live results, reported apart). */
  generatedTraffic?: boolean;
  proxies: ProxyView[];
  stages: LiveStageFigures[];
}

export class FleetProxy {
  readonly view: ProxyView;
  /** Results after this sequence number are this rollout's; undefined until the first route is set. */
  cursor?: number;
  /** The proxy's results feed as last read (a new one means the proxy restarted and numbers from 1 again). */
  epoch?: string;
  /**
   * Why the proxy refused this rollout's last route (409: it serves another plan, or someone else set its route
   * since), while it still answers reads: no blip to wait out.
   */
  refusal?: string;
  /** Since when (the proxy's clock) it served blue by its lease before this rollout's renewal reached it; the live source journals it. */
  lapsedAt?: number;
  /** The proxy had restarted (a new results feed) by the time it said so (lapsedAt): its lease may have run out while it was down. */
  lapsedOnRestart = false;
  /** A restart seen (its feed began again) since the last route it took. */
  private restartedSinceRoute = false;
  /** Said once that the proxy's results feed is newer than this rollout knows (live-source.ts). */
  newerFeedSaid = false;
  /**
   * Another rollout run held the proxy under its lease when this run's first route came (the race two rollouts
   * starting at once run; the preflight refuses the rest): this run never moved it, and its ending leaves it alone.
   */
  heldByOther = false;
  /**
   * The route it answered with at the preflight, before this run set any (openLiveControl), until this run's first
   * route replaces it: one set by hand is journaled then (ProxyActuator).
   */
  found?: Route;
  /** Whether a route of this rollout reached the proxy: later ones go on from it. */
  private set = false;
  /** The revision of the last route this run set there (proxies since session 18 say it): later ones are conditional on it. */
  private revision?: number;
  /**
   * A resumed run: the proxy's own results up to this one of its feed were recorded before this run's first route
   * reached it (served under the dead run, or anyone's): not this run's. It reads them only for what they carry
   * handed over.
   */
  private notOwn?: { epoch: string; seq: number };
  /**
   * The feed this run's first route was set in. Each route of a rollout tags the proxy's results with its stage, and
   * the tag lasts until the proxy restarts, so a result of that feed with no tag was routed before (by a route set
   * by hand, which has none): not this run's, though it ended after the route (only a restarted proxy's results are
   * untagged until the next renewal, and those are this run's).
   */
  private firstFeed?: string;
  /** Since when (steady clock) the proxy has not answered; the view's unreachableSince is the wall time, for people. */
  private silentSince?: number;
  constructor(
    readonly client: AdminClient,
    private readonly clock: Clock,
    /** An id of this rollout run, sent with every route. */
    private readonly controller: string,
    /** What the rollout recorded of every feed, shared by the fleet's proxies (see takes). */
    private readonly feedsRead: FeedsRead = new FeedsRead(),
    /** The ids of this rollout's dead runs (`rollout --resume`): results handed over under their routes are this run's. */
    private readonly earlierRuns: ReadonlySet<string> = new Set(),
    /** Who runs this rollout and where, sent with every route (a refused rollout is told whose the proxy is). */
    private readonly by?: string,
  ) {
    this.view = { url: client.url, reachable: true, greenWeight: 0, mirror: 0 };
    feedsRead.follow(this);
  }

  /**
   * Sets the route. `goingOn` (a renewal, the next stage) says it goes on from this rollout's own route, so a proxy
   * whose route someone else set since (an operator's blue by hand, another rollout) refuses it rather than have it
   * overridden; an ending's route (blue, a promotion) always goes. `fresh`: on a connection of its own (see
   * AdminClient.getRoute). Resolves to the results feed of the process that took it, when it says.
   */
  async setRoute(route: RouteSet, goingOn = false, fresh = false): Promise<string | undefined> {
    try {
      const answer = await this.send(
        {
          ...route,
          controller: this.controller,
          ...(this.by !== undefined && { by: this.by }),
          // The dead runs' routes are this run's own: the proxy lets it take over their lease.
          ...(this.earlierRuns.size > 0 && { resumes: [...this.earlierRuns] }),
          ...(goingOn && this.set && { goingOn: true }),
        },
        fresh,
      );
      this.set = true;
      this.revision = typeof answer.route.revision === 'number' ? answer.route.revision : undefined;
      this.refusal = undefined;
      delete this.view.unsaved;
      delete this.view.refused;
      // A restart is seen by the feed's epoch: on this answer, or in a read before it (whose restart renewed at once).
      const restarted = this.restartedSinceRoute || (this.epoch !== undefined && answer.resultsEpoch !== undefined && answer.resultsEpoch !== this.epoch);
      this.restartedSinceRoute = false;
      if (answer.lapsedAt !== undefined) {
        this.lapsedAt = answer.lapsedAt;
        this.lapsedOnRestart = restarted;
      }
      if (this.cursor === undefined) this.startReading(answer.resultsCursor ?? 0, answer.resultsEpoch);
      Object.assign(this.view, { greenWeight: answer.route.greenWeight, mirror: answer.route.mirror });
      this.view.promotedArm = answer.route.promotedArm;
      this.view.leaseExpiresAt = answer.route.leaseExpiresAt;
      this.answered();
      return answer.resultsEpoch;
    } catch (error) {
      const refused = error instanceof AdminCallError && error.status === 409;
      if (refused) this.refusal = error.message;
      // Taken, not saved: recorded (live.json), so `status` does not read the proxy's route file as what it serves.
      if (error instanceof AdminCallError && error.inForce) this.view.unsaved = error.unsaved?.error ?? error.message;
      if (error instanceof AdminCallError && error.code === 'held' && !this.set) this.heldByOther = true;
      // A route taken but not saved was answered, by a proxy now serving it: not a silence (which, a lease long,
      // rolls the rollout back on proxy_unreachable), and the view shows what it serves.
      if (error instanceof AdminCallError && error.inForce) this.tookUnsaved(route);
      else if (refused) {
        // A refusal is an answer too: the proxy is reachable (no silence to wait out, not "not answering"), and says why.
        this.answered();
        this.view.refused = error.message;
      } else this.failed(error);
      throw error;
    }
  }

  /**
   * A route going on from this run's own goes conditional on the revision of the last one this run set: a renewal
   * still on its way when the lease ran out (the proxy stopped a while, a partition) is refused on arrival, so a run
   * that died meanwhile, and whose end `bluegreen rollback` recorded as blue, cannot reopen green for a whole lease.
   * Refused so (409 `changed`) while the route in force is one this run may go on from (its lease's lapse, its own
   * route whose answer was lost: anyone else's is refused without that code), this run is alive to hear it and sends
   * again, once, over the revision the proxy names (goOnFrom); a proxy from before session 36 names none, and takes it
   * unconditional, as before (its goingOn check alone).
   */
  private async send(body: RouteSet, fresh: boolean): Promise<RouteAnswer> {
    const revision = body.goingOn === true ? this.revision : undefined;
    if (revision === undefined) return this.client.setRoute(body, fresh);
    try {
      return await this.client.setRoute({ ...body, ifRevision: revision }, fresh);
    } catch (error) {
      if (!(error instanceof AdminCallError && error.status === 409 && error.code === 'changed')) throw error;
      return this.client.setRoute({ ...body, ...(error.goOnFrom !== undefined && { ifRevision: error.goOnFrom }) }, fresh);
    }
  }

  /** The proxy took `route` but could not save it (its admin API's 500 with inForce): what it serves now. */
  private tookUnsaved(route: RouteSet): void {
    Object.assign(this.view, { greenWeight: route.greenWeight, mirror: route.mirror });
    this.view.promotedArm = route.promotedArm;
    // The answer holds no lease: its length from now, on this clock (the proxy's differs by their skew at most).
    if (route.ttlMs === undefined || route.promotedArm !== undefined) delete this.view.leaseExpiresAt;
    else this.view.leaseExpiresAt = this.clock.now() + route.ttlMs;
    this.answered();
  }

  /** The route as the proxy holds it now (GET /admin/route); its reachability follows the answer. */
  async readRoute(): Promise<RouteAnswer> {
    try {
      const answer = await this.client.getRoute();
      this.answered();
      return answer;
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  /** Whether a route of this run reached the proxy (its ending then has something of its own to undo there). */
  get moved(): boolean {
    return this.set;
  }

  /**
   * Where this run reads the proxy's feed from: after `head`, the results its first route starts after. A resumed
   * run reads from where its dead run's saved figures end in that feed (the whole feed when it never read it), so
   * the results stopped proxies handed over that the dead run did not record are judged now, in their stage.
   */
  private startReading(head: number, epoch: string | undefined): void {
    // What the dead runs recorded of this feed, asked before this proxy's own position counts (it would say head).
    const recorded = this.earlierRuns.size > 0 && epoch !== undefined ? this.feedsRead.readUpTo(epoch) : undefined;
    this.epoch = epoch;
    this.firstFeed = epoch;
    this.cursor = head;
    if (recorded === undefined || epoch === undefined) return;
    this.cursor = Math.min(head, recorded);
    this.notOwn = { epoch, seq: head };
  }

  /** The proxy restarted (its feed is `epoch` now): its old feed's cursor is kept, its new one read from the start. */
  restarted(): void {
    this.restartedSinceRoute = true;
    if (this.epoch !== undefined && this.cursor !== undefined) this.feedsRead.remember(this.epoch, this.cursor);
    this.cursor = 0;
  }

  /**
   * Whether to record a result read from this proxy: yes, unless a stopped proxy handed it over (handover.ts) and
   * it was not served under this rollout's routes (this run's, or a dead run's this one resumed), or this rollout
   * recorded it already (read from the stopped proxy before it stopped, or handed over twice: each proxy that stops
   * in turn hands over what was not read; or recorded in the figures a resumed run carried over); and, in a
   * resumed run, unless the proxy recorded it before this run's first route reached it, or it was routed before
   * that route (no stage tag in that route's feed: see firstFeed).
   */
  takes(entry: Pick<FeedEntry, 'origin'> & Partial<Pick<FeedEntry, 'seq' | 'stage'>>): boolean {
    const origin = entry.origin;
    if (origin === undefined && entry.stage === undefined && this.epoch !== undefined && this.epoch === this.firstFeed) return false;
    if (origin === undefined) return this.notOwn === undefined || this.epoch !== this.notOwn.epoch || (entry.seq ?? 0) > this.notOwn.seq;
    const ours = origin.controller === this.controller || this.earlierRuns.has(origin.controller);
    if (!ours || origin.seq <= this.feedsRead.readUpTo(origin.epoch)) return false;
    this.feedsRead.remember(origin.epoch, origin.seq);
    return true;
  }

  /** Whether `route` was set by this rollout run (or a dead run it resumed). */
  ownsRoute(route: Pick<Route, 'controller'>): boolean {
    return route.controller !== undefined && (route.controller === this.controller || this.earlierRuns.has(route.controller));
  }

  answered(): void {
    this.view.reachable = true;
    this.view.lastContactAt = this.clock.now();
    delete this.view.unreachableSince;
    this.silentSince = undefined;
    delete this.view.error;
  }

  failed(error: unknown): void {
    this.view.reachable = false;
    this.view.unreachableSince ??= this.clock.now();
    this.silentSince ??= steadyNow(this.clock);
    this.view.error = errorText(error);
  }

  /**
   * How long the proxy has not answered, 0 while it answers. On the steady clock: a wall clock stepped forward (NTP,
   * a resumed VM) would make a blip look a lease long, and roll the rollout back on `proxy_unreachable`.
   */
  silentFor(): number {
    return this.silentSince === undefined ? 0 : steadyNow(this.clock) - this.silentSince;
  }
}

export class ProxyFleet {
  readonly proxies: FleetProxy[];
  private readonly stages = new Map<number, LiveStageFigures>();
  /** One id for this run of the rollout: a proxy tells its routes from anyone else's by it. */
  private readonly controller = randomUUID();
  private readonly feedsRead: FeedsRead;
  private readonly earlierRuns: readonly string[];

  constructor(
    urls: readonly string[],
    token: string,
    private readonly clock: Clock,
    readonly leaseMs: number,
    readonly pollMs: number,
    /** `rollout --resume`: what the dead run's state.json kept (resume-record.ts). */
    resumed?: LiveResume,
    /** Who runs this rollout and where ("alice@ci-3 pid 4242, state folder DIR"), kept with its routes by each proxy. */
    by?: string,
  ) {
    // A call that takes longer than a third of the lease is as good as lost: the next renewal is due.
    const timeoutMs = Math.max(200, Math.min(2000, Math.floor(leaseMs / 3)));
    this.earlierRuns = resumed?.controllers ?? [];
    this.feedsRead = new FeedsRead(resumed?.read);
    const earlier = new Set(this.earlierRuns);
    this.proxies = urls.map((url) => new FleetProxy(new AdminClient({ url, token, timeoutMs }), clock, this.controller, this.feedsRead, earlier, by));
  }

  /** What state.json keeps for a resume of this run, as of now (taken with the snapshot it is saved beside). */
  resumeRecord(): LiveResume {
    return liveResumeRecord(
      this.earlierRuns,
      this.controller,
      this.feedsRead.positions(),
      this.proxies.map((proxy) => proxy.client.url),
    );
  }

  /** Sets the route on every proxy at once (going on from this rollout's last, see setRoute); each proxy's outcome, in order. */
  setAll(route: RouteSet, goingOn = false): Promise<PromiseSettledResult<string | undefined>[]> {
    return Promise.allSettled(this.proxies.map((proxy) => proxy.setRoute(route, goingOn)));
  }

  /** Counts one live result into its stage's live figures. */
  count(stage: number, result: Pick<UpstreamResult, 'arm' | 'ok' | 'neutral'>, kind: ResultKind): void {
    const { arm, ok } = result;
    let figures = this.stages.get(stage);
    if (!figures) {
      figures = { stage, arms: { blue: { requests: 0, failures: 0 }, green: { requests: 0, failures: 0 } }, fallbacks: 0, mirrors: 0 };
      this.stages.set(stage, figures);
    }
    const count = figures.arms[arm];
    // A fallback's answer is in "blue+fb" whatever it was (live-text.ts subtracts the fallbacks from it).
    if (result.neutral && kind !== 'fallback') count.neutral = (count.neutral ?? 0) + 1;
    else {
      count.requests++;
      if (!ok) count.failures++;
    }
    if (kind === 'fallback') figures.fallbacks++;
    if (kind === 'mirror') figures.mirrors++;
  }

  view(): LiveView {
    return {
      leaseMs: this.leaseMs,
      proxies: this.proxies.map((proxy) => ({ ...proxy.view })),
      stages: [...this.stages.values()].sort((a, b) => a.stage - b.stage).map((s) => structuredClone(s)),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.proxies.map((proxy) => proxy.client.close()));
  }
}
