// Chooses blue or green for each request. Keyed requests hash to a fixed point in [0, 1), so a user stays on
// one arm for a stage with no table to remember, and since weights only grow, a user on green stays on green.
import type { ArmName } from '../plan/plan.js';
import { hashString, type RandomSource } from '../core/random.js';

export interface ArmSplitter {
  /** The arm for one request at the given green weight (0..1). */
  choose(greenWeight: number, stickyKey?: string): ArmName;
}

/** Where a sticky key falls in [0, 1): it goes to green once the green weight is above this point. */
export function stickyPoint(seed: number, key: string): number {
  return hashString(key, seed) / 4294967296;
}

export function createSplitter(seed: number, random: RandomSource): ArmSplitter {
  return {
    choose(greenWeight, stickyKey) {
      // NaN and out-of-range weights are clamped so a bad caller never sends green more than it asked for.
      const weight = Number.isNaN(greenWeight) ? 0 : Math.min(1, Math.max(0, greenWeight));
      if (weight <= 0) return 'blue';
      if (weight >= 1) return 'green';
      const point = stickyKey !== undefined && stickyKey !== '' ? stickyPoint(seed, stickyKey) : random();
      return point < weight ? 'green' : 'blue';
    },
  };
}
