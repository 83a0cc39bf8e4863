// The proxies as an actuator: each stage sets green's weight and the stage's mirror share on every proxy under
// a lease, renewed every third of it while the rollout runs. Rollback, abort and interruption set weight and
// mirror to 0 on every proxy; promotion sets the promoted arm, which the proxy keeps across restarts. A proxy
// whose route someone else set, or that does not answer, declines the promotion: the rollout rolls back instead
// (docs/live.md).
// A proxy that stops answering is not waited on: its lease runs out and it serves blue on its own.
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Plan } from '../plan/plan.js';
import type { Actuator, ActuationResult, EndingMove, StageMove } from '../engine/actuator.js';
import { repeatEvery } from '../engine/repeat.js';
import { AdminCallError, type RouteSet } from './admin-client.js';
import type { ProxyFleet } from './fleet.js';
import { routeOwner } from '../proxy/route.js';

/** Attempts for the ending's route: it matters most, and a proxy that missed it still falls back to blue by its lease. */
const ENDING_ATTEMPTS = 3;

export class ProxyActuator implements Actuator {
  private renewal?: TimerHandle;
  private current?: RouteSet;
  /**
   * Route sets go out one at a time: a renewal still carrying the previous stage can never land after the
   * next stage's route, nor after the ending's (a late renewal would reopen green after a rollback).
   */
  private chain: Promise<unknown> = Promise.resolve();
  private renewing = false;
  /** A proxy refused the promotion or did not answer it: one that did not answer may have taken it all the same. */
  private promotionDeclined = false;
  /** Every route carries the plan and models it is for: a proxy serving others refuses it. */
  private readonly rollout: string;

  constructor(
    private readonly plan: Plan,
    private readonly fleet: ProxyFleet,
    private readonly clock: Clock,
  ) {
    this.rollout = routeOwner(plan.name, plan.arms.blue.model, plan.arms.green.model);
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
    };
    this.current = route;
    // From the second stage on, a proxy whose route someone else changed meanwhile refuses the next one.
    const outcomes = await this.serial(() => this.fleet.setAll(route, true));
    this.renewal ??= repeatEvery(this.clock, Math.max(50, Math.floor(this.fleet.leaseMs / 3)), () => void this.renew());
    return outcomes.map((outcome, index) => {
      const url = this.fleet.proxies[index]?.client.url ?? '?';
      return outcome.status === 'fulfilled'
        ? { ok: true, label: `proxy ${url}`, message: `green ${move.greenWeight}, mirror ${mirror}, lease ${this.fleet.leaseMs} ms` }
        : {
            ok: false,
            label: `proxy ${url}`,
            message: (outcome.reason as Error).message,
            // A proxy that answered with an error refused the route; one that did not answer is unreachable.
            rule: outcome.reason instanceof AdminCallError && outcome.reason.status !== undefined ? 'hook' : 'proxy_unreachable',
          };
    });
  }

  async applyEnding(move: EndingMove): Promise<ActuationResult[]> {
    this.stopRenewal();
    const route: RouteSet =
      move.event === 'promote'
        ? { greenWeight: 1, mirror: 0, promotedArm: 'green', reason: `promoted: ${move.reason}`.slice(0, 200) }
        : { greenWeight: 0, mirror: 0, reason: `${move.event}: ${move.reason}`.slice(0, 200) };
    // One past the last stage: results served after the ending are the proxy's own, not this rollout's.
    route.stage = move.stages;
    route.rollout = this.rollout;
    return this.serial(() => this.setEnding(route, move));
  }

  private setEnding(route: RouteSet, move: EndingMove): Promise<ActuationResult[]> {
    // A promotion goes on from this rollout's own route, as a renewal does: a proxy whose route someone else set
    // since (an operator's route by hand just before the last stage ended) keeps it and declines the promotion; so
    // does, in effect, a proxy that does not answer. The rollback that follows, like every other ending, puts every
    // proxy on blue whoever set its route (fail toward blue, as after a renewal refused).
    const promote = move.event === 'promote';
    return Promise.all(
      this.fleet.proxies.map(async (proxy): Promise<ActuationResult> => {
        const label = `proxy ${proxy.client.url}`;
        let last: unknown;
        for (let attempt = 0; attempt < ENDING_ATTEMPTS; attempt++) {
          try {
            await proxy.setRoute(route, promote);
            return { ok: true, label, message: promote ? 'serving green (promoted, kept across restarts)' : 'back on blue' };
          } catch (error) {
            last = error;
            if (promote && error instanceof AdminCallError && error.status === 409) {
              this.promotionDeclined = true;
              return { ok: false, declined: true, rule: 'hook', label, message: `${error.message}; it keeps that route until the rollback` };
            }
          }
        }
        const lease = proxy.view.leaseExpiresAt;
        const back = `its lease runs out${lease ? ` at ${new Date(lease).toISOString()}` : ''} and it returns to blue on its own`;
        // After a promotion it did not answer, it may have taken it (only the answer lost): a promotion has no lease.
        const unsure = this.promotionDeclined ? 'it may have taken the promotion, which has no lease: check its route by hand; if not, ' : '';
        if (!promote) return { ok: false, label, message: `${(last as Error).message}; ${unsure}${back}` };
        this.promotionDeclined = true;
        return { ok: false, declined: true, rule: 'proxy_unreachable', label, message: `${(last as Error).message}; ${back}` };
      }),
    );
  }

  /** Stops renewing (the rollout is ending); the ending's route follows at once. */
  cancel(): Promise<void> {
    this.stopRenewal();
    return Promise.resolve();
  }

  private stopRenewal(): void {
    this.renewal?.cancel();
    this.renewal = undefined;
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
      await this.serial(() => this.fleet.setAll(this.current as RouteSet, true));
    } finally {
      this.renewing = false;
    }
  }
}
