// What a dead rollout's recovery does with one proxy, from the route the proxy answered with: put it back on blue
// (the dead run's own route, sent as that run's ending), leave it (another run's route, or one set by hand), or
// nothing (already on blue, set by no run). Pure: `bluegreen rollback` and a new rollout act on it (restore.ts),
// `rollout --dry-run` says it.
import { BY_HAND, describeRoute, setByHand, type EffectiveRoute, type Route } from '../proxy/route.js';
import { holderOf, leaseHeld } from '../proxy/route-claims.js';
import type { RouteSet } from './admin-client.js';
import type { RolloutSnapshot } from '../engine/types.js';
import { liveResumeOf } from './resume-record.js';

/** The dead rollout as its record knows it. */
export interface DeadRun {
  /** Its run ids (state.json's liveResume: the runs it resumed, its own last). */
  runs: readonly string[];
  /** When it started, and when it last wrote its record (it died after that): a route's time is said against them. */
  startedAt: number;
  lastRecordAt: number;
  /** Its state folder, named in the command that puts a left proxy on blue all the same. */
  stateDir: string;
}

/** The dead run of a state folder's record (no ids in a record from before they were kept). */
export function deadRunOf(snapshot: RolloutSnapshot, stateDir: string): DeadRun {
  return { runs: liveResumeOf(snapshot)?.controllers ?? [], startedAt: snapshot.startedAt, lastRecordAt: snapshot.updatedAt, stateDir };
}

export type RecoveryStep =
  /** The dead run's own route: blue sent as its ending (its ids). */
  | { kind: 'blue'; ending: Pick<RouteSet, 'controller' | 'resumes' | 'ended' | 'goingOn' | 'ifRevision' | 'ifUpdatedAt'>; what: string }
  /** Serving blue, and not the dead run's route: nothing to send. */
  | { kind: 'already_blue'; what: string }
  /** Another run's route, or one set by hand: not the dead run's to undo. */
  | { kind: 'left'; what: string };

/**
 * What the recovery does with a proxy whose route (and what it serves, lease applied) is this; `unsaved`: why the
 * proxy could not save that route (GET /admin/route says so), when it could not.
 */
export function recoveryStep(route: Route, effective: EffectiveRoute, now: number, dead: DeadRun, unsaved?: string): RecoveryStep {
  if (route.controller !== undefined && dead.runs.includes(route.controller))
    return { kind: 'blue', ending: deadRunsEnding(route, dead.runs), what: `this rollout's route (${describeRoute(route)})` };
  if (route.controller !== undefined) return { kind: 'left', what: anotherRunsRoute(route, now, dead) };
  // Every route a rollout run sets carries its id: one without is an operator's PUT (or a --force-blue, or an older
  // bluegreen's rollout), the blue its lease's lapse left, or none yet. setByHand() tells them apart, as for the route a rollout's first stage replaces.
  // A blue in force that its proxy could not save (a --force-blue's, or an operator's, when its folder was full) is
  // sent again, only over that route: a restart would bring back the route saved there (a promotion, say).
  if (effective.greenWeight === 0 && effective.mirror === 0 && unsaved !== undefined)
    return { kind: 'blue', ending: unchanged(route), what: `on blue but not saved there (${unsaved}): sent again, for the proxy to save it` };
  if (effective.greenWeight === 0 && effective.mirror === 0) return { kind: 'already_blue', what: alreadyBlue(route, dead) };
  return {
    kind: 'left',
    what:
      `left as it is: its route was ${BY_HAND} (no run id), ${whenSet(route.updatedAt, dead)}: ` +
      `${describeRoute(route)}; not this rollout's route to undo; ${forceBlue(dead.stateDir)}`,
  };
}

/** A proxy on blue with no run's route: whose blue it is. */
function alreadyBlue(route: Route, dead: DeadRun): string {
  if (setByHand(route)) return `already on blue, ${BY_HAND} (${describeRoute(route)}, ${whenSet(route.updatedAt, dead)})`;
  if (route.updatedAt === 0) return 'already on blue (no route set since it started)';
  // Not the operator's blue: the lease of their route (one with a lease has no run id either) ran out unrenewed.
  return `already on blue: the lease of a route ${BY_HAND} ran out, and its blue was ${whenSet(route.updatedAt, dead)}`;
}

/** "set at T, after this rollout's last record (T2)": when a route was set, against the dead run's own times. */
function whenSet(updatedAt: number, dead: Pick<DeadRun, 'startedAt' | 'lastRecordAt'>): string {
  const at = `set at ${new Date(updatedAt).toISOString()}`;
  if (updatedAt > dead.lastRecordAt) return `${at}, after this rollout's last record (${new Date(dead.lastRecordAt).toISOString()})`;
  if (updatedAt >= dead.startedAt) return `${at}, while this rollout ran (it started at ${new Date(dead.startedAt).toISOString()})`;
  return `${at}, before this rollout started (${new Date(dead.startedAt).toISOString()})`;
}

/** How to put a left proxy on blue all the same: works on a rollout already marked rolled back too. */
export function forceBlue(stateDir: string): string {
  return `to put it on blue all the same: bluegreen rollback --force-blue --state-dir ${stateDir}`;
}

/** A route another rollout run set: nothing of the dead run's is there to undo. */
function anotherRunsRoute(route: Route, now: number, dead: DeadRun): string {
  const since = `${whenSet(route.updatedAt, dead)}, by ${holderOf(route)}`;
  if (route.promotedArm === 'green')
    return `left serving green: another rollout promoted green here (${describeRoute(route)}, ${since}${route.ended === true ? ', and reported it done' : ''}); ${forceBlue(dead.stateDir)}`;
  if (leaseHeld(route, now))
    return `left as it is: another rollout drives it now (${describeRoute(route)}, ${since}), its lease renewed while it runs; it is that rollout's to end (bluegreen abort in its state folder)`;
  return `left as it is: another rollout set its route (${describeRoute(route)}, ${since})`;
}

/**
 * The dead run's blue, sent as its ending would be: its own id (the one whose route the proxy holds) and the runs it
 * resumed, so the proxy refuses it over another run's completed promotion (route-claims.ts); and only over the route
 * read, so another run's route set after the read stands (the proxy answers 409).
 */
function deadRunsEnding(route: Route, runs: readonly string[]): Pick<RouteSet, 'controller' | 'resumes' | 'ended' | 'goingOn' | 'ifRevision' | 'ifUpdatedAt'> {
  const controller = route.controller as string;
  const resumes = runs.filter((id) => id !== controller);
  // Its live route is gone on from (its own lease running out meanwhile does not refuse the blue). A route of its
  // own that ended (blue, or a promotion it sent before it died) cannot be (the proxy refuses a run going on past
  // its ending): the blue is conditional on that route being the one in force still (ifRevision; ifUpdatedAt too, which
  // a proxy from before revisions checks alone).
  const condition = route.ended === true ? unchanged(route) : { goingOn: true };
  return { controller, ...(resumes.length > 0 && { resumes }), ended: true, ...condition };
}

/** A route set only over `route` as read: one set since (another run's first route, say) stands (the proxy answers 409). */
function unchanged(route: Route): Pick<RouteSet, 'ifRevision' | 'ifUpdatedAt'> {
  return { ifUpdatedAt: route.updatedAt, ...(route.revision !== undefined && { ifRevision: route.revision }) };
}
