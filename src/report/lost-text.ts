// Requests a dead run had in flight at its crash (ArmStats.lost, carried by rollout --resume): they never answer,
// and every rate test counts them as outcomes unknown for good. `status` and the dashboard say so the same way.
import type { StageStats } from '../metrics/types.js';
import type { ArmName } from '../plan/plan.js';

/** What the counts are, said before them. */
export const LOST_LABEL = 'lost at a crash (never answered)';

/** The stage's arms with requests lost at a crash, green first (the judged arm), with their counts; empty when none. */
export function lostArms(stage: Pick<StageStats, 'arms'> | undefined): { arm: ArmName; count: number }[] {
  if (stage === undefined) return [];
  return (['green', 'blue'] as const).map((arm) => ({ arm, count: stage.arms[arm].lost ?? 0 })).filter(({ count }) => count > 0);
}

/** "lost at a crash (never answered): green 3, blue 1", or undefined when the stage has none. */
export function lostText(stage: Pick<StageStats, 'arms'> | undefined): string | undefined {
  const arms = lostArms(stage);
  return arms.length === 0 ? undefined : `${LOST_LABEL}: ${arms.map(({ arm, count }) => `${arm} ${count}`).join(', ')}`;
}
