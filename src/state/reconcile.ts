// state.json trails the journal by at most one write, but a full disk or a crash between the two can leave it
// older: then the journal's final event is the truth about how the rollout ended.
import { RECENT_EVENTS } from '../engine/event-log.js';
import { FINAL_PHASES, type Phase, type RolloutEvent, type RolloutSnapshot } from '../engine/types.js';

/**
 * The snapshot, brought up to the journal's "finished" event when that event is newer than the snapshot and
 * the snapshot does not show the rollout as ended. `stale` says whether the journal had to be used.
 */
export function withJournalEnding(snapshot: RolloutSnapshot, events: readonly RolloutEvent[]): { snapshot: RolloutSnapshot; stale: boolean } {
  if (snapshot.endedAt !== undefined) return { snapshot, stale: false };
  // A `finished` line state.json has not seen (after the last line it holds, by content), or the journal's last line,
  // timed before its last write (the clock stepped back in between) is its ending all the same: rolloutStanding
  // takes a last `finished` line for the end whatever its time, and status said "died without finishing", exit 0.
  const newer = linesAfter(snapshot, events);
  const ending = (event: RolloutEvent): boolean => event.at >= snapshot.updatedAt || event === events.at(-1) || newer.includes(event);
  const finished = events.findLast((event) => event.type === 'finished' && ending(event));
  const phase = finished?.data?.phase;
  const exitCode = finished?.data?.exitCode;
  // A dead run's end recorded by a recovery (markRecovered), which state.json missed.
  const recoveredBy = finished?.data?.recoveredBy;
  if (!finished || typeof phase !== 'string' || !FINAL_PHASES.includes(phase as Phase)) return { snapshot, stale: false };
  return {
    stale: true,
    snapshot: {
      ...snapshot,
      phase: phase as Phase,
      exitCode: typeof exitCode === 'number' ? exitCode : snapshot.exitCode,
      ...(typeof recoveredBy === 'string' && { recoveredBy }),
      endedAt: finished.at,
      updatedAt: finished.at,
      greenWeight: finished.greenWeight ?? snapshot.greenWeight,
      stageIndex: finished.stage ?? snapshot.stageIndex,
      reason: finished.message,
      recentEvents: [...snapshot.recentEvents, ...newer].slice(-Math.max(snapshot.recentEvents.length, newer.length)),
    },
  };
}

/**
 * The snapshot brought up to the journal lines written after it, for a rollout not ended: state.json trails the
 * journal by one write, so a kill -9 at a stage's start can leave it on the previous stage. The journal is the
 * later truth: the stage and weight of its latest line, the stages its lines passed or started (and the current
 * stage's clock from its start; the previous stage's checks no longer apply), and the lines themselves.
 */
export function withJournalProgress(snapshot: RolloutSnapshot, events: readonly RolloutEvent[]): RolloutSnapshot {
  if (snapshot.endedAt !== undefined) return snapshot;
  const newer = linesAfter(snapshot, events);
  const latest = newer.at(-1);
  if (!latest) return snapshot;
  const stages = snapshot.stages.map((stage) => ({ ...stage }));
  let { stageIndex, greenWeight } = snapshot;
  let startedAt: number | undefined;
  for (const event of newer) {
    // The journal's readers check only at, type and message: a stage or weight out of range is not taken.
    const index = stageOf(event, snapshot.plan.stages.length);
    const stage = index === undefined ? undefined : stages[index];
    if (index !== undefined) stageIndex = index;
    if (isWeight(event.greenWeight)) greenWeight = event.greenWeight;
    if (stage && event.type === 'stage_passed') Object.assign(stage, { verdict: 'passed', endedAt: event.at });
    if (stage && event.type === 'stage_started') {
      Object.assign(stage, { verdict: 'running', startedAt: event.at });
      startedAt = event.at;
    }
  }
  const updatedAt = Math.max(snapshot.updatedAt, latest.at);
  return {
    ...snapshot,
    stageIndex,
    greenWeight,
    stages,
    updatedAt,
    ...(stageIndex !== snapshot.stageIndex && { checks: [], stageElapsedMs: startedAt === undefined ? 0 : updatedAt - startedAt }),
    recentEvents: [...snapshot.recentEvents, ...newer].slice(-RECENT_EVENTS),
  };
}

/** The journal's lines after the last one state.json holds (by content), or, without one, after its time. */
function linesAfter(snapshot: RolloutSnapshot, events: readonly RolloutEvent[]): readonly RolloutEvent[] {
  const held = snapshot.recentEvents.at(-1);
  const index = held ? events.findLastIndex((event) => event.at === held.at && event.type === held.type && event.message === held.message) : -1;
  return index >= 0 ? events.slice(index + 1) : events.filter((event) => event.at > snapshot.updatedAt);
}

function stageOf(event: RolloutEvent, count: number): number | undefined {
  const { stage } = event as { stage?: unknown };
  return Number.isSafeInteger(stage) && (stage as number) >= 0 && (stage as number) < count ? (stage as number) : undefined;
}

function isWeight(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= 1;
}
