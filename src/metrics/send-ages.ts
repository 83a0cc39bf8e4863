// The ages a proxy reports each arm's sends at (GET /admin/results, inFlight.blueSent and greenSent) for the p95
// ratio's sent-before bounds (src/analysis/quantile.ts): a grid 2^(k/8) ms (k = 0, 1, ...: 9% apart, about 180 points up to an
// hour), so a report is bounded whatever the traffic. The rollout asks at any age v; it is answered at the first
// grid age at or above v, which counts as many sends as at v or fewer (err toward fewer counted as old).
const STEPS_PER_DOUBLING = 8;

/** Grid points past this are never reported (2^50 ms: far past any age). */
export const MAX_AGE_STEP = 400;

/** The grid's k-th age, in ms. */
export function ageStepMs(k: number): number {
  return 2 ** (k / STEPS_PER_DOUBLING);
}

/** The first grid point at or above `ms` (0 for 1 ms or less). */
export function ageStepAtOrAbove(ms: number): number {
  if (!(ms > 1)) return 0;
  let k = Math.ceil(STEPS_PER_DOUBLING * Math.log2(ms));
  // Rounding of the logarithm: the point must be at or above `ms`, and the first such.
  while (ageStepMs(k) < ms) k++;
  while (k > 0 && ageStepMs(k - 1) >= ms) k--;
  return Math.min(k, MAX_AGE_STEP);
}
