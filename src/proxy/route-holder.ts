// The route a proxy serves by: held in memory, its lease applied on every read (once it runs out the proxy serves
// blue on its own, whoever was meant to renew it), every change saved to the state folder so a promotion survives
// a restart.
import type { Clock } from '../core/clock.js';
import { oneLine } from '../core/format.js';
import { RouteFile, type RecordedPlan } from './route-file.js';
import { boundLease, LeaseClock, leaseLength, type LeaseSchedule } from './route-lease.js';
import { BLUE_ROUTE, clampShare, describeRoute, LEASE_EXPIRED, sameEnding, SERVE_BLUE, SERVE_GREEN, type EffectiveRoute, type Route } from './route.js';

export interface RouteHolderOptions {
  /** The proxy's state folder; no folder keeps the route in memory only. */
  stateDir?: string;
  /**
   * routeOwner() of the plan this proxy serves: recorded with every route set, and a saved route recorded for
   * another plan or other models is not applied (the proxy starts on blue). Unset: any saved route applies.
   */
  rollout?: string;
  /** The blue model of that plan, recorded with every route beside `rollout` (Route.blueModel). */
  blueModel?: string;
  /**
   * Routes are stamped with `now` and leases expire by it. With `steadyNow` (the system clock's performance.now) a
   * lease also runs out once as long has passed on it, so a wall clock set back cannot stretch it; without (a test's
   * fake clock), by the wall clock alone.
   */
  clock: Pick<Clock, 'now' | 'steadyNow'>;
  /** Told when the route changes on its own (a lease ran out) or a write fails. */
  onNotice?: (message: string) => void;
  /** Runs the lease's check after `ms`, so an idle proxy also returns to blue; default an unref'd setTimeout. */
  schedule?: LeaseSchedule;
}

/** Holds the route, applies the lease on every read, and persists every change (newest write wins). */
export class RouteHolder {
  private route: Route;
  /** The route whose lease the proxy last applied as run out, while that lease may still run on the steady clock. */
  private lapsedRoute?: Route;
  /** The wall-clock time no restart holds lapsedRoute past (RouteFile's LapsedHold.notAfter). */
  private lapsedNotAfter?: number;
  private readonly file: RouteFile;
  private readonly lease: LeaseClock;

  constructor(private readonly options: RouteHolderOptions) {
    this.file = new RouteFile(options.stateDir, options.onNotice);
    this.lease = new LeaseClock(options.clock, options.schedule);
    const saved = this.file.read(options.rollout);
    this.route = saved ? boundLease(saved.route, options.clock.now()) : { ...BLUE_ROUTE };
    // Restarted during a lapsed lease's hold: it still holds, for the most steady time it could have left, but not
    // past the hold's bound, which no restart moves (a restart loop would hold anew at every start).
    if (saved?.lapsedHold) {
      const { route, leftMs, notAfter } = saved.lapsedHold;
      const now = options.clock.now();
      this.lapsedNotAfter = notAfter ?? now + leftMs;
      const left = Math.min(leftMs, this.lapsedNotAfter - now);
      if (left > 0) {
        this.lapsedRoute = route;
        this.lease.restoreLapse(left);
      }
    }
    // A saved lease keeps counting across a restart.
    this.watchLease();
  }

  /** Another plan the saved route was recorded for at the start (RouteFile.recordedFor). */
  get recordedForOther(): RecordedPlan | undefined {
    return this.file.recordedFor;
  }

  /** Stamps a route with the plan and models this proxy serves. */
  private stamp(route: Route): void {
    if (this.options.rollout !== undefined) route.rollout = this.options.rollout;
    if (this.options.blueModel !== undefined) route.blueModel = this.options.blueModel;
  }

  /** The stored route as set (lease not applied). */
  get stored(): Route {
    return { ...this.route };
  }

  /** The rollout run whose route this is (absent for a route set by hand): what each result is recorded under. */
  get controller(): string | undefined {
    return this.route.controller;
  }

  /** What requests are routed by now: blue once a lease has run out, the promoted arm after a promotion. */
  effective(): EffectiveRoute {
    const route = this.route;
    if (route.promotedArm === 'green') return SERVE_GREEN;
    if (route.promotedArm === 'blue') return SERVE_BLUE;
    if (route.greenWeight === 0 && route.mirror === 0) return SERVE_BLUE;
    if (this.lease.runOut(route.leaseExpiresAt)) {
      this.expire();
      return SERVE_BLUE;
    }
    return route;
  }

  /**
   * The route whose lease the proxy applied as run out by its wall clock (set forward) while that lease still runs on
   * the steady clock, expiring when the steady clock says; else undefined. Serving fails toward blue at the earlier
   * end, but other runs' claims on the proxy (route-claims.ts) are judged by this route until the later: its holder
   * may still be renewing, and a run that took the proxy would have that renewal refused and both would roll back.
   */
  lapsedHolder(): Route | undefined {
    this.effective();
    const left = this.lapsedRoute === undefined ? 0 : this.lease.lapsedLeft();
    return this.lapsedRoute === undefined || left === 0 ? undefined : { ...this.lapsedRoute, leaseExpiresAt: this.options.clock.now() + left };
  }

  /**
   * Why the controller `controller`, going on from its own route (a renewal, the next stage), may not: someone else
   * set the route since (an operator putting the proxy on blue by hand, another rollout). Undefined when it may: the
   * route is still its own, or the proxy's expiry of its own lease (which a renewal after a blip is meant to undo:
   * the expired route keeps the controller whose lease ran out, so an operator's lapsed route is not the rollout's
   * to reopen), or the blue of a proxy that never had one (restarted without its route file). Once the
   * controller's ending is set (`ended`), only that same ending again (a retry whose first answer was lost) goes:
   * a renewal, or an earlier ending, that left before it and arrives after it (a proxy stopped a while, then woken
   * with them in its socket buffers) would reopen green with nobody to renew it, or promote after a rollback.
   */
  changedSince(controller: string, next?: Omit<Route, 'updatedAt'>): string | undefined {
    // A lease that ran out is applied first: that change is the proxy's own.
    this.effective();
    const route = this.route;
    if (route.controller === controller && route.ended && !sameEnding(route, next)) {
      return `this rollout already ended here: ${describeRoute(route)}, set at ${new Date(route.updatedAt).toISOString()}`;
    }
    if (route.controller === controller || route.updatedAt === 0) return undefined;
    return `the route was changed since this rollout set it: ${whoSet(route)}`;
  }

  /**
   * Why a route conditional on the one its caller read (its `revision`, and its `updatedAt`, as GET /admin/route
   * answered them) may not replace the route in force: another route was set since (another run's first route, an
   * operator's, the lease running out). Undefined while the route read is still the one in force. A dead run's
   * recovery sends its blue so over the dead run's ended route, which it may not go on from (changedSince). A caller
   * from before session 18 names the time alone, which two routes set in the same ms share.
   */
  changedFrom(read: { revision?: number; updatedAt?: number }): string | undefined {
    this.effective();
    const route = this.route;
    const same =
      (read.revision === undefined || read.revision === (route.revision ?? 0)) && (read.updatedAt === undefined || read.updatedAt === route.updatedAt);
    if (same) return undefined;
    const which = [
      ...(read.updatedAt === undefined ? [] : [`set at ${new Date(read.updatedAt).toISOString()}`]),
      ...(read.revision === undefined ? [] : [`${read.updatedAt === undefined ? 'of ' : ''}revision ${read.revision}`]),
    ].join(', ');
    return `the route was changed since it was read (the one ${which}): ${whoSet(route)}`;
  }

  /**
   * When the proxy put itself back on blue because nobody renewed its lease (the controller suspended, or cut off,
   * for a whole lease), while that is the route in force; else undefined. Worth telling the controller coming back.
   */
  lapsedAt(): number | undefined {
    this.effective();
    return this.route.reason === LEASE_EXPIRED ? this.route.updatedAt : undefined;
  }

  /** Replaces the route. A weight or mirror above 0 without a lease (and no promotion) is refused. */
  set(next: Omit<Route, 'updatedAt'>): Route {
    const route: Route = {
      ...next,
      greenWeight: clampShare(next.greenWeight),
      mirror: clampShare(next.mirror),
      updatedAt: this.options.clock.now(),
      revision: this.nextRevision(),
    };
    this.stamp(route);
    if (route.promotedArm === undefined && (route.greenWeight > 0 || route.mirror > 0) && route.leaseExpiresAt === undefined) {
      throw new RangeError('a green weight or mirror above 0 needs a lease (leaseExpiresAt)');
    }
    this.route = route;
    this.lapsedRoute = this.lapsedNotAfter = undefined;
    this.lease.forget();
    this.persist();
    this.watchLease();
    return { ...route };
  }

  /** Stops the lease timer (the proxy is closing). */
  stop(): void {
    this.lease.stop();
  }

  private watchLease(): void {
    this.lease.stop();
    const { leaseExpiresAt, promotedArm } = this.route;
    if (leaseExpiresAt === undefined || promotedArm !== undefined) return;
    this.lease.watch(leaseExpiresAt, () => {
      // Timers count on a steady clock, the lease on the wall clock: one slewed (or set back) can leave the lease
      // still running when the timer fires. Check again then, or an idle proxy never says nor saves that it ran out.
      if (this.effective() !== SERVE_BLUE) this.watchLease();
    });
  }

  /**
   * The proxy is draining: a replacement started on the same folder now keeps its route file. This one's changes
   * (its lease running out) stay in memory, so they never overwrite the replacement's route (a promotion, say).
   */
  detach(): void {
    this.file.detach();
  }

  /** Waits for the last write to reach the disk. */
  async flush(): Promise<void> {
    await this.file.flush();
  }

  /**
   * Why the route in force is not the one saved (the last write failed: a full disk, a read-only folder), or
   * undefined. A restart would then start on the route the file still holds, an older promotion say.
   */
  get unsaved(): string | undefined {
    return this.file.unsaved;
  }

  /** What lets routes be saved again, while one is unsaved (RouteFile.unsavedFix). */
  get unsavedFix(): string | undefined {
    return this.file.unsavedFix;
  }

  /**
   * What a restart would serve, from the route file as last saved: "blue", "green (the promotion saved there)",
   * or the saved stage's route until its lease runs out. Said when a route is not saved (the admin API's 500), so
   * no one reads "it returns to blue by its lease" of a proxy whose file holds a promotion.
   */
  restartWouldServe(): string {
    return this.file.restartWouldServe(this.options.clock.now());
  }

  /** Whether a restart would serve the promotion saved there (no lease ever brings that one back to blue). */
  get restartKeepsGreen(): boolean {
    return this.file.savedPromotion;
  }

  private expire(): void {
    this.lease.lapse();
    this.lapsedRoute = this.route;
    this.lapsedNotAfter = this.options.clock.now() + leaseLength(this.route);
    // Whose lease ran out stays on the route: only that controller may go on from it (changedSince).
    const lapsed = this.route.controller;
    const lapsedBy = this.route.by;
    this.route = { greenWeight: 0, mirror: 0, reason: LEASE_EXPIRED, updatedAt: this.options.clock.now(), revision: this.nextRevision() };
    if (lapsed !== undefined) this.route.controller = lapsed;
    this.stamp(this.route);
    this.options.onNotice?.(`route lease expired without renewal: serving blue${lapsedByText(lapsed, lapsedBy)}`);
    this.persist();
  }

  /** The revision of the next route: one more than the route in force (a route file from before revisions: 0). */
  private nextRevision(): number {
    return (this.route.revision ?? 0) + 1;
  }

  private persist(): void {
    // The hold as it stands when the write starts: a restart holds for what was left then (its steady time is lost).
    this.file.save(() => {
      const left = this.lapsedRoute === undefined ? 0 : this.lease.lapsedLeft();
      const hold = this.lapsedRoute && { route: this.lapsedRoute, leftMs: left, ...(this.lapsedNotAfter !== undefined && { notAfter: this.lapsedNotAfter }) };
      return { route: this.route, ...(left > 0 && hold && { lapsedHold: hold }) };
    });
  }
}

/**
 * Whose rollout stopped renewing (its `by`, one line: a hand-edited route file may hold anything), and where to look:
 * the operator watching the proxy's log learns which run to ask, and that a dead one's end is `bluegreen rollback`'s.
 */
function lapsedByText(controller: string | undefined, by: string | undefined): string {
  if (controller === undefined || by === undefined) return '';
  return ` (the rollout that set it, ${oneLine(by, 200)}, stopped renewing it; if it died, bluegreen status in its state folder says so, and bluegreen rollback there records its end)`;
}

/** "green 50%, mirror 0% (…), set at T by another rollout (alice@ci-3 pid 4242, …)": a route that refuses a caller, and whose. */
function whoSet(route: Route): string {
  // Another rollout's route names who runs it: the operator finds the other CI job from this rollout's breach.
  const by = route.by !== undefined && route.controller !== undefined ? ` by another rollout (${route.by})` : '';
  return `${describeRoute(route)}, set at ${new Date(route.updatedAt).toISOString()}${by}`;
}
