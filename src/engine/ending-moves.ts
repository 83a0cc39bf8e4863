// Putting traffic where an ending leaves it: a stage move still running is stopped first, then every actuator
// takes the ending. A promotion is said only once every proxy took it (its actuation reports wait until then);
// one a proxy declined becomes a rollback. The ending returned says whether its moves worked (afterMoves).
import type { Breach } from '../analysis/types.js';
import { Actuators, type ActuationResult, type Actuator, type EndingMove, type StageMove } from './actuator.js';
import { afterMoves, endingEventMessage, endings, type Ending, type MoveFailure } from './endings.js';
import type { RolloutState } from './rollout-state.js';
import type { EventType, RolloutEvent } from './types.js';

export interface EndingMovesParts {
  state: RolloutState;
  stages: number;
  emit(type: EventType, message: string, extra?: Partial<RolloutEvent>): void;
}

/** A promotion that moves traffic: said once the proxies took it, not before (see EndingMoves.run). */
export function isPromoting(ending: Ending): boolean {
  return ending.phase === 'promoted' && ending.moves !== false;
}

/**
 * The moves that did not put traffic where the ending leaves it, as their journal lines say them: those that failed,
 * and those that left another rollout's promotion standing (said apart: green serves there by right).
 */
function unmoved(ending: Ending, results: readonly ActuationResult[]): Ending {
  const said = (result: ActuationResult) => `${result.label}: ${result.message}`;
  // A proxy left to its lease: what failed and what is known said apart (endings.ts unconfirmedText).
  const failure = (result: ActuationResult): MoveFailure => (result.leftToLease ? { label: result.label, ...result.leftToLease } : said(result));
  const failed = results.filter((result) => !result.ok && !result.declined && !result.promotedElsewhere).map(failure);
  return afterMoves(ending, failed, results.filter((result) => result.promotedElsewhere).map(said));
}

export class EndingMoves {
  private readonly actuators: Actuators;
  /** While a promotion moves traffic, its actuation reports wait here: they follow `promoted`, or the rollback's breach. */
  private held?: (() => void)[];

  constructor(
    list: readonly Actuator[],
    private readonly parts: EndingMovesParts,
  ) {
    this.actuators = new Actuators(list, (result, move) => this.report(result, move));
  }

  applyStage(move: StageMove): Promise<ActuationResult[]> {
    return this.actuators.applyStage(move);
  }

  /** What the ending's moves wait for now ("the on_promote hook (exec, up to its 60s timeout)"); undefined once done. */
  busy(): string | undefined {
    return this.actuators.busy();
  }

  /** Moves traffic for `ending`; resolves to the ending as it stands after (a declined promotion's rollback). */
  async run(ending: Ending): Promise<Ending> {
    const promoting = isPromoting(ending);
    // A hook still moving traffic (a slow on_stage) is stopped before the ending's hook moves it back.
    await this.actuators.cancel();
    if (promoting) this.held = [];
    const results = await this.actuators.applyEnding(this.move(ending));
    const held = this.held ?? [];
    this.held = undefined;
    const declined = promoting ? results.filter((result) => result.declined) : [];
    const moved = unmoved(ending, results);
    if (declined.length === 0 && promoting) {
      this.parts.state.phase = ending.phase;
      this.parts.state.greenWeight = 1;
      this.parts.emit('promoted', endingEventMessage(moved));
    }
    for (const report of held) report();
    return declined.length > 0 ? this.promotionDeclined(declined) : moved;
  }

  private move(ending: Ending): EndingMove {
    const { state, stages } = this.parts;
    // A promotion's hook is told 1 whatever the last stage's weight: it takes all traffic to green.
    const greenWeight = ending.phase === 'promoted' ? 1 : state.greenWeight;
    return { event: ending.hook, stage: state.stageIndex, stages, greenWeight, reason: ending.reason };
  }

  /**
   * A proxy kept a route someone else set (an operator's blue by hand) rather than take the promotion, or did not
   * answer: "promoted" would be untrue there, so the rollout rolls back as for a renewal refused, or a proxy silent,
   * the same way (exit 10): every proxy to blue, on_rollback runs.
   */
  private async promotionDeclined(declined: readonly ActuationResult[]): Promise<Ending> {
    const { state } = this.parts;
    const what = declined.map((result) => `${result.label} did not take the promotion (${result.message})`).join('; ');
    const ending = endings.promotionDeclined(what, declined[0]?.rule ?? 'hook');
    const breach = ending.breach as Breach;
    state.ending = ending;
    state.phase = ending.phase;
    state.toBlue();
    this.parts.emit('breach', breach.message, { breach });
    this.parts.emit('rolled_back', `rolling back to blue on ${breach.rule}`, { breach });
    return unmoved(ending, await this.actuators.applyEnding(this.move(ending)));
  }

  /** Journals an actuator's result; a declined promotion is named by the breach that follows instead (every one). */
  private report(result: ActuationResult, move: { stage: number; greenWeight: number }): void {
    if (result.declined) return;
    // A held report takes the time it is journaled: the journal's times never go back (status --watch reads on from the last).
    const report = () =>
      this.parts.emit(result.ok ? (result.warning ? 'warning' : 'hook_succeeded') : 'hook_failed', `${result.label}: ${result.message}`, {
        stage: move.stage,
        greenWeight: move.greenWeight,
      });
    if (this.held) this.held.push(report);
    else report();
  }
}
