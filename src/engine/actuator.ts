// The seam for what moves real traffic: hooks today, the live proxies next. The engine tells every actuator
// each stage's weight and how the rollout ended; it never knows how they do it.
import type { RuleName } from '../analysis/types.js';
import type { EndingHook } from './endings.js';
import { errorText } from '../core/errors.js';

export interface ActuationResult {
  ok: boolean;
  /** Who acted: "on_stage hook". */
  label: string;
  /** What happened: "exec ./set-weight.sh exited 0 in 40ms". */
  message: string;
  /** The rule a failed stage move is reported under (the breach's rule); default `hook`. */
  rule?: Extract<RuleName, 'hook' | 'proxy_unreachable'>;
  /**
   * The promotion did not take here: refused so as not to override a route someone else set (a proxy an operator
   * put on blue by hand; rule hook), or not answered (rule proxy_unreachable: it serves blue once its lease runs
   * out). A promotion so declined becomes a rollback under that rule, and no later actuator promotes.
   */
  declined?: true;
  /**
   * Not put back on blue because another rollout promoted green there and reported it done (the proxy's 409
   * `promoted`): the proxy serves green by that rollout's right, which an ending's words say apart from a failure.
   */
  promotedElsewhere?: true;
  /**
   * Not told to serve blue (it did not answer, or refused), and holding only this rollout's leased routes: it returns
   * to blue when its lease runs out. `error` is what failed, `lease` what is known after it (lease-words.ts
   * leftToLease: "was left to its lease, which ran out at ..."), so an ending says the two apart.
   */
  leftToLease?: { error: string; lease: string };
  /**
   * Ok, with a caveat an operator must act on (a promotion in force that the proxy could not save, so a restart
   * would not keep it): journaled as a warning rather than hook_succeeded. The ending stands.
   */
  warning?: true;
}

export interface StageMove {
  /** Zero-based. */
  stage: number;
  stages: number;
  greenWeight: number;
}

export interface EndingMove {
  /** rollback and abort put traffic on blue; promote leaves it on green. */
  event: EndingHook;
  stage: number;
  stages: number;
  greenWeight: number;
  reason: string;
}

export interface Actuator {
  /** Moves traffic to the stage's weight; an ok false fails the stage (the rollout rolls back). */
  applyStage(move: StageMove): Promise<ActuationResult[]>;
  /**
   * Puts traffic where the ending leaves it. Called once, after cancel(); a second time, with a rollback, when an
   * actuator declined the promotion.
   */
  applyEnding(move: EndingMove): Promise<ActuationResult[]>;
  /** Stops whatever is still moving traffic (a slow on_stage hook) and resolves once it has stopped. */
  cancel(): Promise<void>;
  /**
   * What it is moving traffic with right now, for an operator whose Ctrl-C finds the ending under way: "the
   * on_promote hook (exec, up to its 60s timeout)"; undefined when idle.
   */
  busy?(): string | undefined;
}

/** Every actuator in order, each result reported as it comes (the journal's hook_succeeded / hook_failed). */
export class Actuators {
  /** Set by cancel(): the rollout is ending, so a stage move still under way moves no further actuator. */
  private ending = false;

  constructor(
    private readonly list: readonly Actuator[],
    /** Told of each result with the stage and weight it moved traffic to (not the stage the engine is leaving). */
    private readonly report: (result: ActuationResult, move: { stage: number; greenWeight: number }) => void,
  ) {}

  /**
   * A stage move that outlives the start of the ending (a slow proxy) stops at the actuator it was on: the next one
   * (the on_stage hook) must never set the stage's weight after the ending's hook put traffic on blue.
   */
  applyStage(move: StageMove): Promise<ActuationResult[]> {
    return this.each(
      move,
      (actuator) => actuator.applyStage(move),
      () => this.ending,
    );
  }

  /** A promotion one actuator declined goes no further (no on_promote hook runs): the engine rolls back instead. */
  applyEnding(move: EndingMove): Promise<ActuationResult[]> {
    const declined = (results: ActuationResult[]) => move.event === 'promote' && results.some((result) => result.declined);
    return this.each(move, (actuator) => actuator.applyEnding(move), declined);
  }

  async cancel(): Promise<void> {
    this.ending = true;
    await Promise.all(this.list.map((actuator) => actuator.cancel()));
  }

  busy(): string | undefined {
    for (const actuator of this.list) {
      const busy = actuator.busy?.();
      if (busy !== undefined) return busy;
    }
    return undefined;
  }

  private async each(
    move: StageMove,
    apply: (actuator: Actuator) => Promise<ActuationResult[]>,
    stop: (results: ActuationResult[]) => boolean = () => false,
  ): Promise<ActuationResult[]> {
    const all: ActuationResult[] = [];
    for (const actuator of this.list) {
      // One actuator failing outright (a bug) must not keep the next (the hooks, after the proxies) from acting.
      const results = await apply(actuator).catch((error: unknown): ActuationResult[] => [
        { ok: false, label: 'actuator', message: `failed: ${errorText(error)} (a bug, please report it)` },
      ]);
      for (const result of results) {
        this.report(result, move);
        all.push(result);
      }
      if (stop(results)) break;
    }
    return all;
  }
}
