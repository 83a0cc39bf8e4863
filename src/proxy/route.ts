// The proxy's route: how much traffic green gets and how much is mirrored to it, held by the proxy and kept in
// its state folder so a promotion survives a restart. A route above blue needs a lease (the rollout renews
// it); once the lease runs out the proxy serves blue on its own, whoever was meant to renew it.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { formatDuration } from '../core/format.js';
import type { ArmName } from '../plan/plan.js';
import { writeFileAtomicAsync } from '../state/files.js';

export const ROUTE_FILE = 'proxy-route.json';

/** Longest lease one call may ask for: a controller that dies must not pin green for long. */
export const MAX_LEASE_MS = 10 * 60_000;

export interface Route {
  /** Share of split requests sent to green, 0..1. */
  greenWeight: number;
  /** Share of blue-routed split requests also copied to green in the background, 0..1. */
  mirror: number;
  /** Epoch ms after which greenWeight and mirror count as 0; required for either to be above 0. */
  leaseExpiresAt?: number;
  /** Set by a promotion: this arm takes every split request, with no lease, until told otherwise. */
  promotedArm?: ArmName;
  /** Why the route last changed (a stage, a rollback, "lease expired"), for status and the journal. */
  reason?: string;
  /** Whose arms the route was set for (routeOwner): a proxy of another plan does not apply it. */
  rollout?: string;
  /** Which run of a rollout set it (an id it sends): its renewals may go on from it, no one else's. */
  controller?: string;
  /** Who that run is, as an operator finds it ("alice@ci-3 pid 4242, state folder /srv/app/.bluegreen"): named in refusals. */
  by?: string;
  /** The controller's last route (its rollout ended): nothing more of that run goes on from it (a late renewal). */
  ended?: true;
  updatedAt: number;
}

/** The plan and models a route moves traffic between: a promotion of one model is not another's. */
export function routeOwner(planName: string, blueModel: string, greenModel: string): string {
  return `${planName} (${blueModel} -> ${greenModel})`;
}

/** Whether the route sends anything to green (a weight, a mirror, or a promotion of green). */
function touchesGreen(route: Route): boolean {
  return route.promotedArm === 'green' || (route.promotedArm === undefined && (route.greenWeight > 0 || route.mirror > 0));
}

/** `next` is the ending `route` holds, sent again. */
function sameEnding(route: Route, next: Omit<Route, 'updatedAt'> | undefined): boolean {
  return next?.ended === true && next.greenWeight === route.greenWeight && next.mirror === route.mirror && next.promotedArm === route.promotedArm;
}

/** A route as the proxy's log says it: weight, mirror, promotion and why (the lease's expiry left out). */
export function describeRoute(route: Route): string {
  return `green ${route.greenWeight}, mirror ${route.mirror}${route.promotedArm ? `, promoted ${route.promotedArm}` : ''}${route.reason ? ` (${route.reason})` : ''}`;
}

/**
 * What a starting proxy says about the route it starts on: a promotion, or a stage's route whose lease still runs
 * (restarted mid-rollout). Nothing when it simply serves blue.
 */
export function startingRouteNotice(route: Route, effective: EffectiveRoute, now: number): string | undefined {
  if (route.promotedArm === 'green') return 'serving green: a promotion is recorded in the state folder';
  if ((effective.greenWeight === 0 && effective.mirror === 0) || route.leaseExpiresAt === undefined) return undefined;
  const left = formatDuration(route.leaseExpiresAt - now);
  return `resuming the route saved in the state folder: ${describeRoute(route)}; its lease runs out in ${left} (then blue, unless a rollout renews it)`;
}

export const BLUE_ROUTE: Readonly<Route> = Object.freeze({ greenWeight: 0, mirror: 0, updatedAt: 0 });

/** Why the proxy put itself back on blue: its lease ran out without renewal. */
export const LEASE_EXPIRED = 'lease expired: back on blue';

/** What one request is routed by, lease applied. */
export interface EffectiveRoute {
  greenWeight: number;
  mirror: number;
}

const SERVE_BLUE: EffectiveRoute = Object.freeze({ greenWeight: 0, mirror: 0 });
const SERVE_GREEN: EffectiveRoute = Object.freeze({ greenWeight: 1, mirror: 0 });

function clampShare(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/** A route read from disk or an admin call, checked field by field; undefined when it is not one. */
export function parseRoute(value: unknown): Route | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.greenWeight !== 'number' || typeof r.mirror !== 'number') return undefined;
  const route: Route = {
    greenWeight: clampShare(r.greenWeight),
    mirror: clampShare(r.mirror),
    updatedAt: typeof r.updatedAt === 'number' ? r.updatedAt : 0,
  };
  if (typeof r.leaseExpiresAt === 'number') route.leaseExpiresAt = r.leaseExpiresAt;
  if (r.promotedArm === 'blue' || r.promotedArm === 'green') route.promotedArm = r.promotedArm;
  if (typeof r.reason === 'string') route.reason = r.reason;
  if (typeof r.rollout === 'string') route.rollout = r.rollout;
  if (typeof r.controller === 'string') route.controller = r.controller;
  if (typeof r.by === 'string') route.by = r.by;
  if (r.ended === true && route.controller !== undefined) route.ended = true;
  return route;
}

/**
 * A saved lease runs at most its own length (and never past MAX_LEASE_MS) from a restart. Its expiry is the writer's
 * wall clock: written by a clock that was ahead (set back since by NTP, or another machine's, the state folder on
 * shared storage), it would have kept green for as long as the difference, an hour for an hour, with no rollout.
 */
function boundLease(route: Route, now: number): Route {
  if (route.leaseExpiresAt === undefined || route.promotedArm !== undefined) return route;
  const length = Math.min(MAX_LEASE_MS, Math.max(0, route.leaseExpiresAt - route.updatedAt));
  return route.leaseExpiresAt - now > length ? { ...route, leaseExpiresAt: now + length } : route;
}

export interface RouteHolderOptions {
  /** The proxy's state folder; no folder keeps the route in memory only. */
  stateDir?: string;
  /**
   * routeOwner() of the plan this proxy serves: recorded with every route set, and a saved route recorded for
   * another plan or other models is not applied (the proxy starts on blue). Unset: any saved route applies.
   */
  rollout?: string;
  now: () => number;
  /**
   * A steady clock (performance.now): a lease also runs out once this much time has passed since it was set, so a
   * wall clock set back (an NTP step, a VM resumed) cannot stretch it. Unset: the wall clock alone (fake clocks).
   */
  steadyNow?: () => number;
  /** Told when the route changes on its own (a lease ran out) or a write fails. */
  onNotice?: (message: string) => void;
  /**
   * Runs `check` after `ms`, so an idle proxy also returns to blue when its lease runs out; returns a
   * cancel function. Default: an unref'd setTimeout.
   */
  schedule?: (ms: number, check: () => void) => () => void;
}

function defaultSchedule(ms: number, check: () => void): () => void {
  const timer = setTimeout(check, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

/** Holds the route, applies the lease on every read, and persists every change (newest write wins). */
export class RouteHolder {
  private route: Route;
  private readonly file?: string;
  private writing?: Promise<void>;
  private pendingWrite = false;
  private cancelLeaseCheck?: () => void;
  /** Set by detach(): changes stay in memory, the folder's route file is left to the next proxy. */
  private detached = false;
  /** When the lease runs out by the steady clock (options.steadyNow), whatever the wall clock says then. */
  private steadyDeadline?: number;
  /** Why the last write of the route file failed; cleared by the next that succeeds. */
  private saveError?: string;
  /** What the route file holds (the last route written, or read at the start): what a restart would serve. */
  private saved?: Route;

  constructor(private readonly options: RouteHolderOptions) {
    this.file = options.stateDir === undefined ? undefined : path.join(options.stateDir, ROUTE_FILE);
    this.route = this.load();
    // A saved lease keeps counting across a restart.
    this.watchLease();
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
    const steadyOut = this.steadyDeadline !== undefined && this.options.steadyNow !== undefined && this.options.steadyNow() >= this.steadyDeadline;
    if (route.leaseExpiresAt === undefined || this.options.now() >= route.leaseExpiresAt || steadyOut) {
      this.expire();
      return SERVE_BLUE;
    }
    return route;
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
    // Another rollout's route names who runs it: the operator finds the other CI job from this rollout's breach.
    const by = route.by !== undefined && route.controller !== undefined ? ` by another rollout (${route.by})` : '';
    return `the route was changed since this rollout set it: ${describeRoute(route)}, set at ${new Date(route.updatedAt).toISOString()}${by}`;
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
    const route: Route = { ...next, greenWeight: clampShare(next.greenWeight), mirror: clampShare(next.mirror), updatedAt: this.options.now() };
    if (this.options.rollout !== undefined) route.rollout = this.options.rollout;
    if (route.promotedArm === undefined && (route.greenWeight > 0 || route.mirror > 0) && route.leaseExpiresAt === undefined) {
      throw new RangeError('a green weight or mirror above 0 needs a lease (leaseExpiresAt)');
    }
    this.route = route;
    this.steadyDeadline = undefined;
    this.persist();
    this.watchLease();
    return { ...route };
  }

  /** Stops the lease timer (the proxy is closing). */
  stop(): void {
    this.cancelLeaseCheck?.();
    this.cancelLeaseCheck = undefined;
  }

  private watchLease(): void {
    this.stop();
    const { leaseExpiresAt, promotedArm } = this.route;
    if (leaseExpiresAt === undefined || promotedArm !== undefined) return;
    // Counted from now on the steady clock too; a later wall-clock step back cannot lengthen it.
    if (this.options.steadyNow !== undefined) this.steadyDeadline ??= this.options.steadyNow() + Math.max(0, leaseExpiresAt - this.options.now());
    const schedule = this.options.schedule ?? defaultSchedule;
    // A millisecond late so the check sees the lease as run out.
    this.cancelLeaseCheck = schedule(Math.max(0, leaseExpiresAt - this.options.now()) + 1, () => {
      this.cancelLeaseCheck = undefined;
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
    this.detached = true;
  }

  /** Waits for the last write to reach the disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /**
   * Why the route in force is not the one saved (the last write failed: a full disk, a read-only folder), or
   * undefined. A restart would then start on the route the file still holds, an older promotion say.
   */
  get unsaved(): string | undefined {
    return this.saveError;
  }

  /**
   * What a restart would serve, from the route file as last saved: "blue", "green (the promotion saved there)",
   * or the saved stage's route until its lease runs out. Said when a route is not saved (the admin API's 500), so
   * no one reads "it returns to blue by its lease" of a proxy whose file holds a promotion.
   */
  restartWouldServe(): string {
    const saved = this.saved;
    if (saved === undefined || !touchesGreen(saved)) return 'blue';
    if (saved.promotedArm === 'green') return `green: the promotion saved there has no lease (${describeRoute(saved)})`;
    const lease = saved.leaseExpiresAt;
    if (lease === undefined || lease <= this.options.now()) return 'blue (the route saved there, its lease run out)';
    return `${describeRoute(saved)} until its lease runs out at ${new Date(lease).toISOString()}, then blue`;
  }

  private expire(): void {
    this.stop();
    this.steadyDeadline = undefined;
    // Whose lease ran out stays on the route: only that controller may go on from it (changedSince).
    const lapsed = this.route.controller;
    this.route = { greenWeight: 0, mirror: 0, reason: LEASE_EXPIRED, updatedAt: this.options.now() };
    if (lapsed !== undefined) this.route.controller = lapsed;
    if (this.options.rollout !== undefined) this.route.rollout = this.options.rollout;
    this.options.onNotice?.('route lease expired without renewal: serving blue');
    this.persist();
  }

  private load(): Route {
    if (!this.file) return { ...BLUE_ROUTE };
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      // No route file yet: a proxy that was never driven serves blue.
      return { ...BLUE_ROUTE };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const route = parseRoute(parsed);
    this.saved = route;
    if (!route) {
      this.options.onNotice?.(`${this.file} is not a route; serving blue`);
      return { ...BLUE_ROUTE };
    }
    const owner = this.options.rollout;
    if (owner !== undefined && route.rollout !== owner && touchesGreen(route)) {
      // Another plan's green (a promotion left in a shared folder) is not this plan's: fail toward blue.
      this.options.onNotice?.(`${this.file} was recorded for ${route.rollout ?? 'another plan'}, not ${owner}: its route is not applied; serving blue`);
      return { ...BLUE_ROUTE };
    }
    return boundLease(route, this.options.now());
  }

  private persist(): void {
    const file = this.file;
    if (!file || this.detached) return;
    if (this.writing) {
      this.pendingWrite = true;
      return;
    }
    const write = async (): Promise<void> => {
      do {
        this.pendingWrite = false;
        try {
          await mkdir(path.dirname(file), { recursive: true });
          // A change not yet written as the proxy began draining is not: the file is the next proxy's now.
          if (this.detached) return;
          const route = this.route;
          await writeFileAtomicAsync(file, `${JSON.stringify(route, null, 2)}\n`);
          this.saved = route;
          this.saveError = undefined;
        } catch (error) {
          // The code says why (ENOSPC, EROFS, EACCES); node's message repeats the path, twice for a rename.
          this.saveError = `could not save the route to ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
          this.options.onNotice?.(this.saveError);
        }
      } while (this.pendingWrite);
    };
    this.writing = write().finally(() => {
      this.writing = undefined;
    });
  }
}
