// The proxies as an actuator: each stage sets green's weight and the stage's mirror share on every proxy under
// a lease, renewed every third of it while the rollout runs. Rollback, abort and interruption set weight and
// mirror to 0 on every proxy. Promotion goes in two steps: every proxy first takes all traffic to green under a
// lease, and only once all of them did is the promotion (no lease, kept across restarts) sent. A proxy whose route
// someone else set, or that does not answer the first step, declines the promotion: the rollout rolls back instead,
// and a proxy that took the first step and was lost returns to blue when its lease runs out (docs/live.md). One
// that took the first step and did not confirm the second has its route read back until that lease ran out.
// Otherwise a proxy that stops answering is not waited on: its lease runs out and it serves blue on its own.
import { formatDuration, formatWeight, oneLine } from '../core/format.js';
import { sleep, steadyNow, wallTimeOf, type Clock, type TimerHandle } from '../core/clock.js';
import type { Plan } from '../plan/plan.js';
import type { Actuator, ActuationResult, EndingMove, StageMove } from '../engine/actuator.js';
import { repeatEvery } from '../engine/repeat.js';
import { AdminCallError, type RouteSet } from './admin-client.js';
import type { FleetProxy, ProxyFleet } from './fleet.js';
import { errorText } from '../core/errors.js';
import { BY_HAND, describeRoute, MAX_ROUTE_REASON, routeOwner, setByHand } from '../proxy/route.js';
import { qualityRulesKey } from '../analysis/quality.js';
import { readBackPromotion } from './read-back.js';
import { sharedUrlMessage } from './process-order.js';
import { backByLease, leftToLease } from './lease-words.js';
import { blueNotSaved, isUnsaved, promotionNotSaved, routeNotSaved } from './unsaved-words.js';
import type { HookEventName } from '../hooks/types.js';

/** Attempts for the ending's route: it matters most, and a proxy that missed it still falls back to blue by its lease. */
const ENDING_ATTEMPTS = 3;
/** How long a rollback goes on trying a proxy that does not answer, at most, before leaving it to its lease. */
const BLUE_RETRY_MS = 60_000;
/** Blue's tries per process seen at an admin URL that several answer at once (a balancer picks one each time). */
const SHARED_TRIES = 4;

/**
 * Records a move of the proxies while it is under way (hook.json, as a hook's run is), so a kill -9 half way leaves
 * `status` and `rollback` saying green may be at either weight. `stage` is one-based; returns the move's end.
 */
export type MoveRecorder = (move: { event: HookEventName; stage: number; greenWeight: number }) => () => void;

export class ProxyActuator implements Actuator {
  private renewal?: TimerHandle;
  private current?: RouteSet;
  /**
   * Route sets go out one at a time: a renewal still carrying the previous stage can never land after the
   * next stage's route, nor after the ending's (a late renewal would reopen green after a rollback).
   */
  private chain: Promise<unknown> = Promise.resolve();
  private renewing = false;
  /** The rollout is ending: no stage move may start renewals again (one under way as the ending began). */
  private ending = false;
  /** Proxies that took the promotion (no lease), or may have (their answer lost): blue only if told, never by a lease. */
  private readonly promoted = new Map<FleetProxy, 'took' | 'may have'>();
  /** Every route carries the plan and models it is for: a proxy serving others refuses it. */
  private readonly rollout: string;
  /**
   * Routes that send green traffic carry the quality rules this rollout judges by: a proxy restarted on a plan
   * checking by others refuses them. Routes to blue do not: nothing may refuse a rollback.
   */
  private readonly quality: string;
  /** Routes that send green traffic say the plan promises fallback to blue, when it does: a proxy without it refuses them. */
  private readonly fallback: { fallback?: true };
  /**
   * For each proxy, when (the steady clock: a wall clock stepped either way must not cut or stretch a wait) the last
   * route sending green traffic left for it, unless that call provably never reached it (its connection refused): its
   * lease runs out a lease after. Per proxy: renewals refused at connect by a dead proxy cannot have renewed its lease,
   * and a rollback waiting a lease from them waited a lease too long (speed32: ~6 s of a 6 s lease).
   */
  private readonly greenSentAt = new Map<FleetProxy, number>();
  /** While the ending's route goes out: what the rollout waits for (see busy). */
  private endingWork?: string;

  constructor(
    private readonly plan: Plan,
    private readonly fleet: ProxyFleet,
    private readonly clock: Clock,
    private readonly record: MoveRecorder = () => () => undefined,
  ) {
    this.rollout = routeOwner(plan.name, plan.arms.blue.model, plan.arms.green.model);
    this.quality = qualityRulesKey(plan.analysis.quality);
    this.fallback = plan.proxy?.fallback === true ? { fallback: true } : {};
  }

  async applyStage(move: StageMove): Promise<ActuationResult[]> {
    const mirror = this.plan.stages[move.stage]?.mirror ?? 0;
    const route: RouteSet = {
      greenWeight: move.greenWeight,
      mirror,
      ttlMs: this.fleet.leaseMs,
      stage: move.stage,
      reason: `stage ${move.stage + 1}/${move.stages} of ${this.plan.name}`,
      rollout: this.rollout,
      quality: this.quality,
      ...this.fallback,
    };
    this.current = route;
    // From the second stage on, a proxy whose route someone else changed meanwhile refuses the next one.
    const outcomes = await this.recorded({ event: 'stage', stage: move.stage + 1, greenWeight: move.greenWeight }, () =>
      this.serial(() => this.sendGreen(route)),
    );
    if (!this.ending) this.renewal ??= repeatEvery(this.clock, Math.max(50, Math.floor(this.fleet.leaseMs / 3)), () => void this.renew());
    return outcomes.map((outcome, index) => {
      const proxy = this.fleet.proxies[index];
      const url = proxy?.client.url ?? '?';
      return outcome.status === 'fulfilled'
        ? {
            ok: true,
            label: `proxy ${url}`,
            // As the dashboard's live section and status say it: "green 25%, mirror 0%, lease 5s".
            message: `green ${formatWeight(move.greenWeight)}, mirror ${formatWeight(mirror)}, lease ${formatDuration(this.fleet.leaseMs)}${proxy ? replacedByHand(proxy) : ''}`,
          }
        : {
            ok: false,
            label: `proxy ${url}`,
            message: isUnsaved(outcome.reason) ? routeNotSaved(outcome.reason) : (outcome.reason as Error).message,
            // A proxy that answered with an error refused the route; one that did not answer is unreachable.
            rule: outcome.reason instanceof AdminCallError && outcome.reason.status !== undefined ? 'hook' : 'proxy_unreachable',
          };
    });
  }

  async applyEnding(move: EndingMove): Promise<ActuationResult[]> {
    const proxies = this.fleet.proxies.length === 1 ? 'the proxy' : `the ${this.fleet.proxies.length} proxies`;
    this.endingWork = `${proxies} to ${move.event === 'promote' ? 'take the promotion' : 'go back to blue'} (each tried ${ENDING_ATTEMPTS} times at most)`;
    try {
      return await this.recorded({ event: move.event, stage: move.stage + 1, greenWeight: move.event === 'promote' ? 1 : 0 }, () => this.endingRoutes(move));
    } finally {
      this.endingWork = undefined;
    }
  }

  private async recorded<T>(move: Parameters<MoveRecorder>[0], work: () => Promise<T>): Promise<T> {
    const finished = this.record(move);
    try {
      return await work();
    } finally {
      finished();
    }
  }

  busy(): string | undefined {
    return this.endingWork;
  }

  private endingRoutes(move: EndingMove): Promise<ActuationResult[]> {
    this.stopRenewal();
    // One past the last stage: results served after the ending are the proxy's own, not this rollout's.
    const owned = { stage: move.stages, rollout: this.rollout };
    // The last routes of this run: a renewal still on its way behind them is refused, never applied after them.
    const last = { ...owned, ended: true };
    if (move.event !== 'promote') {
      const route: RouteSet = { greenWeight: 0, mirror: 0, reason: oneLine(`${move.event}: ${move.reason}`, MAX_ROUTE_REASON), ...last };
      return this.serial(() => Promise.all(this.fleet.proxies.map((proxy) => this.toBlue(proxy, route))));
    }
    const reason = oneLine(`promoted: ${move.reason}`, MAX_ROUTE_REASON);
    const allGreen: RouteSet = {
      greenWeight: 1,
      mirror: 0,
      ttlMs: this.fleet.leaseMs,
      reason: oneLine(`promoting: ${move.reason}`, MAX_ROUTE_REASON),
      quality: this.quality,
      ...this.fallback,
      ...owned,
    };
    const promotion: RouteSet = { greenWeight: 1, mirror: 0, promotedArm: 'green', reason, quality: this.quality, ...this.fallback, ...last };
    return this.serial(async () => {
      const sentAt = steadyNow(this.clock);
      for (const proxy of this.fleet.proxies) this.greenSentAt.set(proxy, sentAt);
      const prepared = await Promise.all(this.fleet.proxies.map((proxy) => this.prepare(proxy, allGreen)));
      if (prepared.some((result) => !result.ok)) return prepared;
      // Every proxy took the first step by now: its lease has run out a lease (and a poll, for margin) from here.
      const deadline = steadyNow(this.clock) + this.fleet.leaseMs + this.fleet.pollMs;
      return Promise.all(this.fleet.proxies.map((proxy) => this.commit(proxy, promotion, deadline)));
    });
  }

  /**
   * A promotion's first step: all traffic to green under a lease, going on from this rollout's own route. A proxy
   * whose route someone else set since (an operator's blue by hand just before the last stage ended) keeps it and
   * declines; so does, in effect, one that does not answer: if it took the step and lost only the answer, its lease
   * still returns it to blue. The rollback that follows puts every proxy on blue whoever set its route (fail toward
   * blue, as after a renewal refused).
   */
  private async prepare(proxy: FleetProxy, route: RouteSet): Promise<ActuationResult> {
    const label = `proxy ${proxy.client.url}`;
    const error = await this.attempts(proxy, route);
    // Several processes at the URL (a load balancer): the step reached one of them, and so would the promotion.
    const feeds = proxy.client.processes.twoAnswering;
    if (feeds !== undefined) return { ok: false, declined: true, rule: 'hook', label, message: sharedUrlMessage(proxy.client.url, feeds) };
    if (error === undefined) return { ok: true, label, message: 'all traffic to green under a lease, before the promotion' };
    if (refused(error)) return { ok: false, declined: true, rule: 'hook', label, message: `${error.message}; it keeps that route until the rollback` };
    // In force and not saved: the rollout rolls back rather than promote what a restart would not keep.
    if (isUnsaved(error)) return { ok: false, declined: true, rule: 'hook', label, message: routeNotSaved(error) };
    return {
      ok: false,
      declined: true,
      rule: 'proxy_unreachable',
      label,
      message: `${errorText(error)}; ${backByLease(proxy.view.leaseExpiresAt, this.clock.now())}`,
    };
  }

  /**
   * The promotion itself, once every proxy serves green under a lease. A proxy that refuses it now (a route set by
   * hand in between) declines it as in the first step. One that does not answer is not rolled back over at once:
   * it may have taken the promotion and lost only the answer. Its route is read back until its first step's lease
   * would have run out (read-back.ts): shown promoted, it is; shown anything else (blue by its lease), it declines,
   * and the rollout rolls back (exit 10) rather than say "promoted". Silent throughout, it stays in doubt: a rollback
   * it also missed could leave it on green for good, so the others stay promoted and the ending says to check it.
   */
  private async commit(proxy: FleetProxy, route: RouteSet, deadline: number): Promise<ActuationResult> {
    const label = `proxy ${proxy.client.url}`;
    const error = await this.attempts(proxy, route);
    if (error === undefined) return this.took(proxy, label, 'serving green (promoted, kept across restarts)');
    // Taken and in force, not saved: promoted all the same (its answer says so; nothing to read back), and a restart
    // would serve the route saved before, which ends on blue (the safe way) or on a saved promotion: a warning.
    if (isUnsaved(error)) return { ...this.took(proxy, label, promotionNotSaved(error)), warning: true };
    if (refused(error)) return { ok: false, declined: true, rule: 'hook', label, message: `${error.message}; it keeps that route until the rollback` };
    const by = new Date(wallTimeOf(this.clock, deadline)).toISOString();
    this.endingWork = `${label} to show the promotion or blue (its route read back until its first step's lease has run out, at ${by})`;
    const read = await readBackPromotion(proxy, { plan: this.plan, clock: this.clock, deadline, pollMs: this.fleet.pollMs });
    if (read.kind === 'promoted')
      return this.took(
        proxy,
        label,
        `serving green (promoted, kept across restarts): its answer was lost (${errorText(error)}), its route read back shows the promotion`,
      );
    if (read.kind === 'not_promoted')
      return {
        ok: false,
        declined: true,
        // A route set by hand in between is a refusal, as in the first step; blue by its lease, a promotion lost.
        rule: read.byHand ? 'hook' : 'proxy_unreachable',
        label,
        message: `${errorText(error)}; its route read back shows it did not take it: ${read.route}`,
      };
    this.promoted.set(proxy, 'may have');
    return {
      ok: false,
      label,
      message:
        `${errorText(error)}; it did not confirm the promotion, nor answer a read of its route until its first step's lease ran out (${by}): ` +
        'it serves green if the promotion reached it, else blue: check its route (GET /admin/route)',
    };
  }

  private took(proxy: FleetProxy, label: string, message: string): ActuationResult {
    this.promoted.set(proxy, 'took');
    return { ok: true, label, message };
  }

  private async toBlue(proxy: FleetProxy, route: RouteSet): Promise<ActuationResult> {
    const label = `proxy ${proxy.client.url}`;
    // Another rollout drove it when this one began (two started at once): this run moved nothing there to undo.
    if (proxy.heldByOther && !proxy.moved)
      return { ok: true, label, message: 'left as it is: another rollout drives it, and this rollout never set its route' };
    // Whoever set its route since, every ending but a promotion puts it on blue; but for another rollout's completed
    // promotion, which the proxy refuses to undo (route-claims.ts): that rollout reported it done.
    let error = await this.attempts(proxy, route, false);
    if (error instanceof AdminCallError && error.code === 'promoted')
      return { ok: false, promotedElsewhere: true, label, message: `${error.message}; it serves green, that promotion left standing` };
    const promoted = this.promoted.get(proxy);
    if (error !== undefined && !refused(error) && !isUnsaved(error)) error = await this.untilLeaseEnds(proxy, route, label, error, promoted !== undefined);
    if (error === undefined)
      return proxy.client.processes.twoAnswering === undefined ? { ok: true, label, message: 'back on blue' } : this.blueOnEach(proxy, route, label);
    // Blue is in force, not saved: the proxy's answer says what a restart would serve instead; no lease is involved.
    if (isUnsaved(error)) {
      const blue = blueNotSaved(error);
      return { ok: blue.holds, label, message: blue.message };
    }
    // After a promotion it did not confirm, it may have taken it (only the answer lost): a promotion has no lease.
    const fate =
      promoted === 'took'
        ? 'it took the promotion, which has no lease: it serves green until its route is set by hand (PUT /admin/route)'
        : promoted === 'may have'
          ? `it may have taken the promotion, which has no lease: check its route by hand; if not, ${backByLease(proxy.view.leaseExpiresAt, this.clock.now())}`
          : backByLease(proxy.view.leaseExpiresAt, this.clock.now());
    const left = promoted === undefined && { leftToLease: { error: errorText(error), lease: leftToLease(proxy.view.leaseExpiresAt, this.clock.now()) } };
    return { ok: false, label, message: `${errorText(error)}; ${fate}`, ...left };
  }

  /**
   * An admin URL more than one proxy process answers (a load balancer over replicas): blue reached one of them. It
   * is sent again, each time on a connection of its own, until every process seen there took it, or SHARED_TRIES a
   * process; one not reached returns to blue by its lease (it took only this run's routes, all under it).
   */
  private async blueOnEach(proxy: FleetProxy, route: RouteSet, label: string): Promise<ActuationResult> {
    const feeds = proxy.client.processes.feeds();
    const took = new Set<string>();
    for (let tries = 0; tries < SHARED_TRIES * feeds.length && feeds.some((feed) => !took.has(feed)); tries++) {
      const feed = await proxy.setRoute(route, false, true).catch(() => undefined);
      if (feed !== undefined) took.add(feed);
    }
    const missed = feeds.filter((feed) => !took.has(feed));
    if (missed.length === 0) return { ok: true, label, message: `back on blue, on each of the ${feeds.length} proxy processes that answered there` };
    return {
      ok: false,
      label,
      message: `back on blue on ${took.size} of the ${feeds.length} proxy processes that answered there; not reached (or stopped since): results feed ${missed.join(', ')}: ${backByLease(proxy.view.leaseExpiresAt, this.clock.now())}`,
    };
  }

  /**
   * A proxy that does not answer the route to blue may be restarting: back up, it serves the route it saved (green)
   * until that lease runs out. So blue is tried again, backing off, until the lease has run out (then it serves blue
   * on its own) or for BLUE_RETRY_MS at most (a long lease on a proxy that is gone must not hold the rollout for
   * long); the last error, or undefined once it took blue. One that took the promotion, or may have (`promoted`),
   * has no lease to run out: back up it would serve green for good, so it is tried for BLUE_RETRY_MS.
   */
  private async untilLeaseEnds(proxy: FleetProxy, route: RouteSet, label: string, first: Error, promoted: boolean): Promise<Error | undefined> {
    // When the last green route this run sent runs out, by the rollout's own clock (the proxy's may be skewed, and a
    // rollout interrupted before the proxy's first answer never heard its lease): the proxy counts from receiving it.
    const sentAt = this.greenSentAt.get(proxy);
    const lease = promoted ? Infinity : sentAt === undefined ? undefined : sentAt + this.fleet.leaseMs + this.fleet.pollMs;
    if (lease === undefined) return first;
    const deadline = Math.min(lease, steadyNow(this.clock) + BLUE_RETRY_MS);
    const until = promoted ? 'for a minute: it may hold the promotion, which has no lease' : 'until its lease runs out';
    this.endingWork = `${label} to go back to blue: it does not answer, tried again ${until} (${new Date(wallTimeOf(this.clock, deadline)).toISOString()})`;
    let last = first;
    for (let pause = this.fleet.pollMs; steadyNow(this.clock) < deadline; pause = Math.min(pause * 2, 2000)) {
      await sleep(this.clock, Math.min(pause, Math.max(0, deadline - steadyNow(this.clock))));
      try {
        // Going on from this run's own route (its stage route saved across the restart, its lease's lapse, or this
        // blue itself, the answer lost): a route someone set while the proxy did not answer the rollout (an
        // operator, another rollout) is newer than this ending, and stands (409). But for this run's own promotion,
        // an ending of its own the proxy would refuse to go on from: that one is undone whoever set a route since.
        await proxy.setRoute(route, !promoted);
        return undefined;
      } catch (error) {
        last = error instanceof Error ? error : new Error(errorText(error));
        if (refused(last)) return last;
      }
    }
    return last;
  }

  /**
   * Up to ENDING_ATTEMPTS tries of an ending's route (`goingOn`: from this rollout's own route, see
   * FleetProxy.setRoute); the last error, or undefined once the proxy took it. A refusal is not retried, nor a
   * route taken and not saved.
   */
  private async attempts(proxy: FleetProxy, route: RouteSet, goingOn = true): Promise<Error | undefined> {
    let last: Error | undefined;
    for (let attempt = 0; attempt < ENDING_ATTEMPTS; attempt++) {
      try {
        await proxy.setRoute(route, goingOn);
        return undefined;
      } catch (error) {
        last = error instanceof Error ? error : new Error(errorText(error));
        // Taken and not saved: the proxy would answer the same again (admin.ts), so it is not asked again.
        if (refused(last) || isUnsaved(last)) return last;
      }
    }
    return last;
  }

  /** Stops renewing (the rollout is ending); the ending's route follows at once. */
  cancel(): Promise<void> {
    this.stopRenewal();
    return Promise.resolve();
  }

  /** For good: the rollout is ending, and a stage move still under way must not start renewals again. */
  private stopRenewal(): void {
    this.ending = true;
    this.renewal?.cancel();
    this.renewal = undefined;
  }

  /** A stage's route or its renewal to every proxy, going on from this run's own. */
  private async sendGreen(route: RouteSet): Promise<PromiseSettledResult<unknown>[]> {
    if (route.greenWeight === 0 && route.mirror === 0) return this.fleet.setAll(route, true);
    // Taken as sent before the answers come (an ending waits behind this in serial(), but never wait on that): a
    // proxy's earlier time is put back only once its call is known never to have reached it.
    const sentAt = steadyNow(this.clock);
    const before = new Map(this.greenSentAt);
    for (const proxy of this.fleet.proxies) this.greenSentAt.set(proxy, sentAt);
    const outcomes = await this.fleet.setAll(route, true);
    outcomes.forEach((outcome, index) => {
      const proxy = this.fleet.proxies[index];
      if (proxy === undefined || outcome.status === 'fulfilled' || !(outcome.reason instanceof AdminCallError && outcome.reason.neverSent)) return;
      const earlier = before.get(proxy);
      if (earlier === undefined) this.greenSentAt.delete(proxy);
      else this.greenSentAt.set(proxy, earlier);
    });
    return outcomes;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * Renews at once (a proxy restarted and needs its stage number and route now, not at the next renewal).
   * Nothing once the rollout is ending: renewals stopped then, and one must never follow the ending's route.
   */
  renewNow(): void {
    if (this.renewal) void this.renew();
  }

  private async renew(): Promise<void> {
    // A renewal still waiting (a slow proxy) is not doubled; each proxy answers on its own, and a silent one
    // is marked unreachable (the live source decides what that means).
    if (this.renewing || !this.current) return;
    this.renewing = true;
    try {
      await this.serial(() => this.sendGreen(this.current as RouteSet));
    } finally {
      this.renewing = false;
    }
  }
}

/**
 * The proxy answered and did not take the route: 409 (someone else set its route since, or it serves another plan),
 * or another 4xx (a rotated admin token, a route it finds invalid). A 5xx may have come after the route was set.
 */
function refused(error: Error): boolean {
  return error instanceof AdminCallError && error.status !== undefined && error.status >= 400 && error.status < 500;
}

/**
 * "; it replaced a route set by hand or by an older bluegreen …": said (and so journaled) with the first route this run
 * set on the proxy, when the route it found there had no run id (an operator's, or an old rollout's), so `status` and
 * the report say whose decision the rollout overrode.
 */
function replacedByHand(proxy: FleetProxy): string {
  const found = proxy.found;
  proxy.found = undefined;
  if (found === undefined || !setByHand(found)) return '';
  return `; it replaced a route ${BY_HAND} (no run id) at ${new Date(found.updatedAt).toISOString()}: ${describeRoute(found)}`;
}
