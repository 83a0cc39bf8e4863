// Where a rollout stands: its phase, stage and weight, and how it ends. One object, shared by the engine and the
// parts it hands work to (stage steps, ending moves), so each reads and writes the same truth.
import type { Ending } from './endings.js';
import type { Phase } from './types.js';

export class RolloutState {
  phase: Phase = 'starting';
  stageIndex = 0;
  greenWeight = 0;
  /** Set once the first stage's traffic moved: before it no request goes out and nothing is judged. */
  stageStarted = false;
  /** Set the moment the rollout starts to end; a declined promotion replaces it with its rollback. */
  ending?: Ending;
  startedAt = 0;
  endedAt?: number;

  /** Before anything else: from this moment no new request goes to green. */
  toBlue(): void {
    this.greenWeight = 0;
  }

  /** The stage and weight requests go out at now; undefined before the first stage and once the rollout ends. */
  current(): { stage: number; greenWeight: number } | undefined {
    return this.ending || !this.stageStarted ? undefined : { stage: this.stageIndex, greenWeight: this.greenWeight };
  }
}
