// state.json trails the journal by at most one write, but a full disk or a crash between the two can leave it
// older: then the journal's final event is the truth about how the rollout ended.
import { FINAL_PHASES, type Phase, type RolloutEvent, type RolloutSnapshot } from '../engine/types.js';

/**
 * The snapshot, brought up to the journal's "finished" event when that event is newer than the snapshot and
 * the snapshot does not show the rollout as ended. `stale` says whether the journal had to be used.
 */
export function withJournalEnding(snapshot: RolloutSnapshot, events: readonly RolloutEvent[]): { snapshot: RolloutSnapshot; stale: boolean } {
  if (snapshot.endedAt !== undefined) return { snapshot, stale: false };
  const finished = events.findLast((event) => event.type === 'finished' && event.at >= snapshot.updatedAt);
  const phase = finished?.data?.phase;
  const exitCode = finished?.data?.exitCode;
  if (!finished || typeof phase !== 'string' || !FINAL_PHASES.includes(phase as Phase)) return { snapshot, stale: false };
  const newer = events.filter((event) => event.at > snapshot.updatedAt);
  return {
    stale: true,
    snapshot: {
      ...snapshot,
      phase: phase as Phase,
      exitCode: typeof exitCode === 'number' ? exitCode : snapshot.exitCode,
      endedAt: finished.at,
      updatedAt: finished.at,
      greenWeight: finished.greenWeight ?? snapshot.greenWeight,
      stageIndex: finished.stage ?? snapshot.stageIndex,
      reason: finished.message,
      recentEvents: [...snapshot.recentEvents, ...newer].slice(-Math.max(snapshot.recentEvents.length, newer.length)),
    },
  };
}
