// BLUEGREEN_GREEN_PERCENT is a whole percent, for shell arithmetic (src/hooks/exec.ts): a stage weight between two
// whole percents reaches an exec hook rounded (0.004 as 0, 0.995 as 100), and a hook that sets a gateway from it
// moves other traffic than the plan says. BLUEGREEN_GREEN_WEIGHT carries the exact share.
import { greenPercent } from '../hooks/percent.js';
import type { Plan } from './plan.js';
import type { PlanWarning } from './warnings.js';

export function roundedPercentWarnings(plan: Plan): PlanWarning[] {
  // Only on_stage is told a stage's weight; endings are told 0 or 1.
  if (plan.hooks?.on_stage?.exec === undefined) return [];
  return plan.stages.flatMap((stage, index) => {
    const weight = stage.green_weight;
    const percent = greenPercent(weight);
    if (Math.abs(weight * 100 - percent) < 1e-9) return [];
    return [
      {
        keyPath: `stages[${index}].green_weight`,
        message: `${weight} is not a whole percent: the on_stage exec hook gets BLUEGREEN_GREEN_PERCENT=${percent} (rounded), so a hook that sets traffic from it moves ${percent}% to green; read BLUEGREEN_GREEN_WEIGHT (${weight}) instead, or use a whole percent`,
        repeat: {
          kind: 'rounded-percent',
          index,
          field: 'green_weight',
          message:
            'each is not a whole percent: the on_stage exec hook gets BLUEGREEN_GREEN_PERCENT rounded, so a hook that sets traffic from it moves other shares than these; read BLUEGREEN_GREEN_WEIGHT instead, or use whole percents',
        },
      },
    ];
  });
}
