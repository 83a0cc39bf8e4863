// The proxies a live rollout drives, and what the rollout knows of each: the route it last set, the lease, the
// last contact, the results cursor and the live figures per stage. The actuator writes the routes, the live
// source reads the results; both go through here, and the dashboard, status and live.json read it.
import { FeedsRead } from './feeds-read.js';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { ArmName } from '../plan/plan.js';
import type { ProxyFigures, ResultKind } from '../proxy/metrics.js';
import type { FeedEntry } from '../proxy/results-feed.js';
import { AdminCallError, AdminClient, type RouteAnswer, type RouteSet } from './admin-client.js';
import { errorText } from '../core/errors.js';

export interface LiveArmCount {
  requests: number;
  failures: number;
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
  /** Whether a route of this rollout reached the proxy: later ones go on from it. */
  private set = false;
  constructor(
    readonly client: AdminClient,
    private readonly clock: Clock,
    /** An id of this rollout run, sent with every route. */
    private readonly controller: string,
    /** What the rollout recorded of every feed, shared by the fleet's proxies (see takes). */
    private readonly feedsRead: FeedsRead = new FeedsRead(),
  ) {
    this.view = { url: client.url, reachable: true, greenWeight: 0, mirror: 0 };
    feedsRead.follow(this);
  }

  /**
   * Sets the route. `goingOn` (a renewal, the next stage) says it goes on from this rollout's own route, so a proxy
   * whose route someone else set since (an operator's blue by hand, another rollout) refuses it rather than have it
   * overridden; an ending's route (blue, a promotion) always goes.
   */
  async setRoute(route: RouteSet, goingOn = false): Promise<void> {
    try {
      const answer = await this.client.setRoute({ ...route, controller: this.controller, ...(goingOn && this.set && { goingOn: true }) });
      this.set = true;
      this.refusal = undefined;
      if (answer.lapsedAt !== undefined) this.lapsedAt = answer.lapsedAt;
      if (this.cursor === undefined) {
        this.cursor = answer.resultsCursor ?? 0;
        this.epoch = answer.resultsEpoch;
      }
      Object.assign(this.view, { greenWeight: answer.route.greenWeight, mirror: answer.route.mirror });
      this.view.promotedArm = answer.route.promotedArm;
      this.view.leaseExpiresAt = answer.route.leaseExpiresAt;
      this.answered();
    } catch (error) {
      if (error instanceof AdminCallError && error.status === 409) this.refusal = error.message;
      this.failed(error);
      throw error;
    }
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

  /** The proxy restarted (its feed is `epoch` now): its old feed's cursor is kept, its new one read from the start. */
  restarted(): void {
    if (this.epoch !== undefined && this.cursor !== undefined) this.feedsRead.remember(this.epoch, this.cursor);
    this.cursor = 0;
  }

  /**
   * Whether to record a result read from this proxy: yes, unless a stopped proxy handed it over (handover.ts) and
   * it was not served under this rollout's routes, or this rollout recorded it already (read from the stopped
   * proxy before it stopped, or handed over twice: each proxy that stops in turn hands over what was not read).
   */
  takes(entry: Pick<FeedEntry, 'origin'>): boolean {
    const origin = entry.origin;
    if (origin === undefined) return true;
    if (origin.controller !== this.controller || origin.seq <= this.feedsRead.readUpTo(origin.epoch)) return false;
    this.feedsRead.remember(origin.epoch, origin.seq);
    return true;
  }

  answered(): void {
    this.view.reachable = true;
    this.view.lastContactAt = this.clock.now();
    delete this.view.unreachableSince;
    delete this.view.error;
  }

  failed(error: unknown): void {
    this.view.reachable = false;
    this.view.unreachableSince ??= this.clock.now();
    this.view.error = errorText(error);
  }

  /** How long the proxy has not answered, 0 while it answers. */
  silentFor(): number {
    return this.view.unreachableSince === undefined ? 0 : this.clock.now() - this.view.unreachableSince;
  }
}

export class ProxyFleet {
  readonly proxies: FleetProxy[];
  private readonly stages = new Map<number, LiveStageFigures>();

  constructor(
    urls: readonly string[],
    token: string,
    private readonly clock: Clock,
    readonly leaseMs: number,
    readonly pollMs: number,
  ) {
    // A call that takes longer than a third of the lease is as good as lost: the next renewal is due.
    const timeoutMs = Math.max(200, Math.min(2000, Math.floor(leaseMs / 3)));
    // One id for this run of the rollout: a proxy tells its routes from anyone else's by it.
    const controller = randomUUID();
    const feedsRead = new FeedsRead();
    this.proxies = urls.map((url) => new FleetProxy(new AdminClient({ url, token, timeoutMs }), clock, controller, feedsRead));
  }

  /** Sets the route on every proxy at once (going on from this rollout's last, see setRoute); each proxy's outcome, in order. */
  setAll(route: RouteSet, goingOn = false): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled(this.proxies.map((proxy) => proxy.setRoute(route, goingOn)));
  }

  /** Counts one live result into its stage's live figures. */
  count(stage: number, arm: ArmName, ok: boolean, kind: ResultKind): void {
    let figures = this.stages.get(stage);
    if (!figures) {
      figures = { stage, arms: { blue: { requests: 0, failures: 0 }, green: { requests: 0, failures: 0 } }, fallbacks: 0, mirrors: 0 };
      this.stages.set(stage, figures);
    }
    figures.arms[arm].requests++;
    if (!ok) figures.arms[arm].failures++;
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

  get now(): number {
    return this.clock.now();
  }
}
