// The proxy's route as a value: how much traffic green gets and how much is mirrored to it, under a lease or a
// promotion; parsed from its file or an admin call, and described for logs and refusals. RouteHolder
// (route-holder.ts) holds it, route-lease.ts times its lease, route-file.ts keeps it in the state folder.
import { formatDuration, formatWeight } from '../core/format.js';
import { isEpochMs } from '../core/clock.js';
import type { ArmName } from '../plan/plan.js';

/** What lets a route be saved again after a write failed in a folder still there (and a proxy's that does not say). */
export const UNSAVED_FIX = 'free its state folder (disk space, permissions)';

export const ROUTE_FILE = 'proxy-route.json';

/** The longest `reason` a route keeps (PUT /admin/route cuts it there); a caller cuts it so too, marked with an ellipsis. */
export const MAX_ROUTE_REASON = 200;

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
  /**
   * The blue model of the plan `rollout` names, kept apart: a model name may hold " -> ", on which `rollout` cannot
   * be split back. Absent in routes saved before session 32 (ownerBlueModel then reads `rollout`).
   */
  blueModel?: string;
  /** Which run of a rollout set it (an id it sends): its renewals may go on from it, no one else's. */
  controller?: string;
  /** Who that run is, as an operator finds it ("alice@ci-3 pid 4242, state folder /srv/app/.bluegreen"): named in refusals. */
  by?: string;
  /** The controller's last route (its rollout ended): nothing more of that run goes on from it (a late renewal). */
  ended?: true;
  updatedAt: number;
  /**
   * The proxy's count of routes set, bumped by each one (a lease running out too), kept across restarts in the route
   * file: what a route conditional on the one read names (PUT /admin/route `ifRevision`), where `updatedAt` can be
   * the same for two routes (set in the same ms, or the clock stepped back). Absent in routes saved before session 18.
   */
  revision?: number;
}

/** The plan and models a route moves traffic between: a promotion of one model is not another's. */
export function routeOwner(planName: string, blueModel: string, greenModel: string): string {
  return `${planName} (${blueModel} -> ${greenModel})`;
}

/**
 * The blue model a routeOwner() string names, or undefined when it is not one: for a route saved before its
 * `blueModel` was kept (ambiguous when a model name holds " -> ": the shortest reading is taken).
 */
export function ownerBlueModel(owner: string): string | undefined {
  // The last " (" that ends in "X -> Y)": a plan name may hold " (", a model name hardly.
  return /^[^]* \(([^]+?) -> [^]+\)$/.exec(owner)?.[1];
}

/** Whether the route sends anything to green (a weight, a mirror, or a promotion of green). */
export function touchesGreen(route: Route): boolean {
  return route.promotedArm === 'green' || (route.promotedArm === undefined && (route.greenWeight > 0 || route.mirror > 0));
}

/**
 * Whether an operator set the route by hand (PUT /admin/route, or `rollback --force-blue`): every route a rollout run
 * sets carries its id. Not the blue a proxy starts on (never set), nor the blue its lease's lapse left. A rollout from
 * before session 18 set none either: its route, still saved (a promotion), reads the same, so messages say BY_HAND.
 */
export function setByHand(route: Route): boolean {
  return route.controller === undefined && route.updatedAt > 0 && route.reason !== LEASE_EXPIRED;
}

/** Who set a route without a run id, as messages say it: true of an operator's and of an old rollout's (setByHand). */
export const BY_HAND = 'set by hand or by an older bluegreen';

/** `next` is the ending `route` holds, sent again. */
export function sameEnding(route: Route, next: Omit<Route, 'updatedAt'> | undefined): boolean {
  return next?.ended === true && next.greenWeight === route.greenWeight && next.mirror === route.mirror && next.promotedArm === route.promotedArm;
}

/** What a route serves, as the dashboard and `status` say it: "green 25%, mirror 0%", or "promoted green". */
export function describeSplit(route: Pick<Route, 'greenWeight' | 'mirror' | 'promotedArm'>): string {
  return route.promotedArm ? `promoted ${route.promotedArm}` : `green ${formatWeight(route.greenWeight)}, mirror ${formatWeight(route.mirror)}`;
}

/** A route as the proxy's log says it: what it serves and why (the lease's expiry left out). */
export function describeRoute(route: Route): string {
  return `${describeSplit(route)}${route.reason ? ` (${route.reason})` : ''}`;
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

export const SERVE_BLUE: EffectiveRoute = Object.freeze({ greenWeight: 0, mirror: 0 });
export const SERVE_GREEN: EffectiveRoute = Object.freeze({ greenWeight: 1, mirror: 0 });

/** A share as a route holds it: 0..1, anything else 0. */
export function clampShare(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

/** A route read from disk or an admin call, checked field by field; undefined when it is not one. */
export function parseRoute(value: unknown): Route | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.greenWeight !== 'number' || typeof r.mirror !== 'number') return undefined;
  // A time no Date holds (a hand-edited 1e308) is not a route's: printing it stopped a rollout with "internal error".
  if ([r.updatedAt, r.leaseExpiresAt].some((at) => typeof at === 'number' && !isEpochMs(at))) return undefined;
  const route: Route = {
    greenWeight: clampShare(r.greenWeight),
    mirror: clampShare(r.mirror),
    updatedAt: typeof r.updatedAt === 'number' ? r.updatedAt : 0,
  };
  if (typeof r.leaseExpiresAt === 'number') route.leaseExpiresAt = r.leaseExpiresAt;
  if (r.promotedArm === 'blue' || r.promotedArm === 'green') route.promotedArm = r.promotedArm;
  if (typeof r.reason === 'string') route.reason = r.reason;
  if (typeof r.rollout === 'string') route.rollout = r.rollout;
  if (typeof r.blueModel === 'string') route.blueModel = r.blueModel;
  if (typeof r.controller === 'string') route.controller = r.controller;
  if (typeof r.by === 'string') route.by = r.by;
  if (Number.isSafeInteger(r.revision) && (r.revision as number) >= 0) route.revision = r.revision as number;
  if (r.ended === true && route.controller !== undefined) route.ended = true;
  return route;
}
