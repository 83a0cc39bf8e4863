// Latency draws for the simulator: a lognormal shaped by its median and 95th percentile.
import { normal, type RandomSource } from '../core/random.js';

/** Lognormal sample with the given median and 95th percentile (z(0.95) = 1.6449). */
export function sampleLognormal(random: RandomSource, p50: number, p95: number): number {
  if (p50 <= 0) return 0;
  const sigma = p95 > p50 ? Math.log(p95 / p50) / 1.6448536 : 0;
  const value = Math.exp(Math.log(p50) + sigma * normal(random));
  // Cap the tail so one unlucky draw cannot stall a demo for minutes.
  return Math.min(value, Math.max(p95, p50) * 4);
}
