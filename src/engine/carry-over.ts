// A resumed rollout's earlier stages passed in the run that died; they, and the stage it resumes, go on from that
// run's saved figures, so the resumed stage continues its tests (and their share of the false-rollback budget)
// instead of spending the share again on fresh counts.
import { formatCount } from '../core/format.js';
import type { MetricsRecorder } from '../metrics/index.js';
import type { CarryBounds } from '../metrics/carry.js';
import type { EngineDeps } from './deps.js';

export interface CarriedOver {
  /** Appended to `rollout_started`: ", resumed at stage 3 (its tests go on from ...)", or empty for a fresh run. */
  resumed: string;
  /** What of the saved figures could not be read, journaled once the rollout started. */
  problems: string[];
}

/**
 * Puts the dead run's figures into `metrics` for the stages up to `first`, and says what was carried. `bounds`: the
 * plan's max_in_flight, the requests it can have had in flight at a crash, and the runs the journal shows, the
 * crashes it can have lost them at (carriedCounts).
 */
export function carryOver(metrics: MetricsRecorder, carried: NonNullable<EngineDeps['carried']>, first: number, bounds: CarryBounds): CarriedOver {
  const problems: string[] = [];
  for (const [index, saved] of carried.entries()) {
    if (index > first) continue;
    // A saved histogram (or an arm's counts) hand-edited or corrupt is left out, and said with what that means.
    for (const problem of metrics.carry(index, saved, bounds)) problems.push(`state.json's stage ${index + 1} ${problem}`);
  }
  // Passed as the dead run judged them: its times and the checks it passed on (its figures may have grown since
  // with late answers).
  for (let index = 0; index < first; index++) metrics.passedBefore(index, carried[index]);
  if (first === 0 && carried.length === 0) return { resumed: '', problems };
  const arms = metrics.stage(first).arms;
  const counts =
    arms.green.requests + arms.blue.requests > 0
      ? ` (its tests go on from the ${formatCount(arms.green.requests)} green and ${formatCount(arms.blue.requests)} blue requests the dead run recorded)`
      : '';
  return { resumed: `, resumed at stage ${first + 1}${counts}`, problems };
}
