// The proxy benchmark's figures over rounds (bench/lib/rounds.js): a percentile of all rounds' requests pooled, and
// the median of rounds it replaced as the targets' figure, on known samples.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

interface Rounds {
  median: (values: (number | null | undefined)[]) => number | null;
  pooledPercentile: (runs: ArrayLike<number>[], p: number) => number | null;
}

// Plain JavaScript without declarations (bench/ is type-checked on its own, against dist/).
const ROUNDS = pathToFileURL(path.resolve(import.meta.dirname, '../../bench/lib/rounds.js')).href;
const { median, pooledPercentile } = (await import(ROUNDS)) as Rounds;

/** A round of 1,000 requests: `slow` of them took 100 ms, the rest 1 ms (sorted, as open-load.js returns them). */
const round = (slow: number) => Float64Array.from({ length: 1000 }, (_, i) => (i < 1000 - slow ? 1 : 100));

it('takes the p99 of every request of every round together', () => {
  // One round's 15 slow requests are 0.375% of four rounds: under the pooled p99, over that round's own.
  const rounds = [round(0), round(15), round(0), round(0)];
  expect(pooledPercentile(rounds, 99)).toBe(1);
  expect(pooledPercentile(rounds, 99.7)).toBe(100);
  // Slow requests in every round are the pooled p99 as they are each round's.
  expect(pooledPercentile([round(20), round(20), round(20)], 99)).toBe(100);
  // The rounds' samples are left as they were.
  expect(Array.from(rounds[1]!.subarray(985, 986))).toEqual([100]);
});

it('reads 20 slow requests in one of two rounds as the median of rounds does not', () => {
  // At 1,000 req/s a 1 s round's p99 is its 10 slowest requests: whether a stall lands in a round decides it.
  const twoRounds = [round(20), round(0)];
  expect(median([100, 1])).toBe(50.5);
  expect(pooledPercentile(twoRounds, 99)).toBe(1);
  expect(pooledPercentile(twoRounds, 99.5)).toBe(100);
});

it('has no figure without samples', () => {
  expect(pooledPercentile([], 99)).toBeNull();
  expect(pooledPercentile([new Float64Array(0)], 50)).toBeNull();
  expect(median([null, undefined])).toBeNull();
});
