// Two rollouts driving one proxy (different state folders, the same plan): which one's route stands. A route set by
// a rollout run (`controller`) is that run's claim on the proxy while its lease runs, and for good once it promoted.
// Another run may not take a proxy held under a live lease (it would fight the holder's renewals, both rolling back),
// and its ending may not undo another run's completed promotion (whose rollout already said "promoted", exit 0).
// Blue by hand (no controller: an operator's PUT, `bluegreen rollback`) always goes. Pure: the proxy (admin.ts) and
// a rollout's preflight (live/routes.ts) ask the same question of a route.
import { describeRoute, type Route } from './route.js';

/** Why a route is refused: `held` (another run's live lease), `promoted` (another run's promotion stands). */
export type ClaimCode = 'held' | 'promoted';

export interface Claim {
  code: ClaimCode;
  message: string;
}

/** The route a rollout run asks for: who asks, what it sends, and the runs it resumes (their routes are its own). */
export interface ClaimRequest {
  controller?: string;
  greenWeight: number;
  mirror: number;
  promotedArm?: Route['promotedArm'];
  ended?: true;
  /** `rollout --resume`: the controller ids of the dead runs this run goes on from. */
  resumes?: readonly string[];
}

/** The run that set `route`, as an operator can find it: who, where (`by`), else its id. */
export function holderOf(route: Route): string {
  return route.by ?? `run ${route.controller ?? '?'}`;
}

/** Whether `route` (its lease already applied: a lapsed one is blue) is a run's split under a lease still running at `now`. */
export function leaseHeld(route: Route, now: number): boolean {
  return (
    route.controller !== undefined &&
    route.ended !== true &&
    route.promotedArm === undefined &&
    (route.greenWeight > 0 || route.mirror > 0) &&
    route.leaseExpiresAt !== undefined &&
    route.leaseExpiresAt > now
  );
}

/** Why another run holds the proxy under its lease: the 409 a new rollout's first route gets, and its preflight's exit 3. */
export function heldMessage(route: Route): string {
  const until = new Date(route.leaseExpiresAt ?? 0).toISOString();
  return (
    `another rollout drives this proxy until its lease runs out at ${until} (renewed while it runs): ${describeRoute(route)}, ` +
    `set at ${new Date(route.updatedAt).toISOString()} by ${holderOf(route)}; wait for it to end, or stop it (bluegreen abort or rollback in its state folder)`
  );
}

/**
 * Why `next` may not replace `route` (lease applied), or undefined when it may. Only a rollout run's routes are
 * judged (`controller`); the holder's own, and its dead runs' for a resumed run, always go.
 */
export function otherRunsClaim(route: Route, next: ClaimRequest, now: number): Claim | undefined {
  const holder = route.controller;
  if (next.controller === undefined || holder === undefined || holder === next.controller || next.resumes?.includes(holder)) return undefined;
  const toGreen = next.promotedArm === 'green' || (next.promotedArm === undefined && (next.greenWeight > 0 || next.mirror > 0));
  // A new rollout's first route over a run still driving the proxy. Blue goes (fail toward blue: a run whose lease
  // lapsed, back and refused, rolls back over the run that took the proxy meanwhile, which then rolls back too).
  if (toGreen && leaseHeld(route, now)) return { code: 'held', message: heldMessage(route) };
  // A run's ending (its rollback) over another run's completed promotion, which that rollout reported as done.
  if (next.ended === true && route.promotedArm === 'green' && route.ended === true)
    return {
      code: 'promoted',
      message:
        `another rollout promoted green here at ${new Date(route.updatedAt).toISOString()} (${holderOf(route)}: ${describeRoute(route)}) and reported it done: ` +
        "a rollout's ending does not undo another's promotion (an operator's PUT /admin/route does)",
    };
  return undefined;
}
