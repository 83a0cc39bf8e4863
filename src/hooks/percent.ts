/** BLUEGREEN_GREEN_PERCENT: green's weight as a whole percent, for shell arithmetic (rounded to the nearest). */
export function greenPercent(weight: number): number {
  return Math.round(weight * 100);
}
