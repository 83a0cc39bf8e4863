// The proxy benchmark's sustained rule (bench/lib/sustained-rule.js), on known tries: what passes, what misses and
// why, a rate's majority verdict, and the search's path to a ceiling. No timing: the tries are made up.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LoadResult as TryResult } from './load-result.js';

interface SearchState {
  rate: number;
  missed: number;
  step: number;
  bisections: number;
}
interface SustainedRule {
  tryMisses: (t: TryResult, rate: number) => string[];
  stepVerdict: (passed: boolean[], tries: number) => boolean | undefined;
  startSearch: (startStep?: number) => SearchState;
  afterVerdict: (s: SearchState, rate: number, ok: boolean) => SearchState;
  nextRate: (s: SearchState, steps: readonly number[], bisections: number) => number | undefined;
  restartStep: (steps: readonly number[], previousRate: number, below: number) => number;
  searchesFigure: (rates: { bare: number[]; proxy: number[] }) => {
    bare: PathFigure;
    proxy: PathFigure;
    ratio: number | null;
    ratios: (number | null)[];
  };
}
interface PathFigure {
  rates: number[];
  median: number;
  min: number;
  max: number;
}

// Plain JavaScript without declarations (bench/ is type-checked on its own, against dist/).
const RULE = pathToFileURL(path.resolve(import.meta.dirname, '../../bench/lib/sustained-rule.js')).href;
const { tryMisses, stepVerdict, startSearch, afterVerdict, nextRate, restartStep, searchesFigure } = (await import(RULE)) as SustainedRule;

/** A 2 s try at 6,000 req/s that meets every condition; each test changes what it is about. */
const good = (change: Partial<TryResult> = {}): TryResult => ({
  offered: 12_000,
  completed: 12_000,
  errors: 0,
  dropped: 0,
  late: 0,
  maxLateMs: 2,
  achievedRate: 5_990,
  latencyMs: { p99: 18 },
  fromScheduleMs: { p99: 20 },
  ...change,
});

describe('a try', () => {
  it('is sustained when every request was answered on time, at the rate, from a client on schedule', () => {
    expect(tryMisses(good(), 6000)).toEqual([]);
  });

  it('tolerates a pause of the client: up to 1% of the requests sent over 10 ms late, all answered', () => {
    // A 30 ms pause at 6,000 req/s: the requests due in its last 20 ms leave 10-30 ms late.
    expect(tryMisses(good({ late: 120, maxLateMs: 30 }), 6000)).toEqual([]);
  });

  it('misses when the client fell behind for real, whatever the latency it then measured', () => {
    expect(tryMisses(good({ late: 121, maxLateMs: 31 }), 6000)).toEqual(['121 sent over 10 ms late (up to 31 ms)']);
    expect(tryMisses(good({ late: 3000, maxLateMs: 240, fromScheduleMs: { p99: 3 } }), 6000)).toEqual(['3000 sent over 10 ms late (up to 240 ms)']);
  });

  it('misses when one request is lost, late sends or not', () => {
    expect(tryMisses(good({ completed: 11_999 }), 6000)).toEqual(['1 unanswered']);
    expect(tryMisses(good({ completed: 11_999, late: 10, maxLateMs: 12 }), 6000)).toEqual(['1 unanswered']);
  });

  it('misses on a dropped request (counted once) and on a failed one', () => {
    expect(tryMisses(good({ completed: 11_998, dropped: 2 }), 6000)).toEqual(['2 dropped']);
    expect(tryMisses(good({ errors: 1 }), 6000)).toEqual(['1 failed']);
  });

  it('misses below 99% of the offered rate and at a p99 of 50 ms', () => {
    expect(tryMisses(good({ achievedRate: 5940 }), 6000)).toEqual([]);
    expect(tryMisses(good({ achievedRate: 5939 }), 6000)).toEqual(['5939 req/s achieved']);
    expect(tryMisses(good({ fromScheduleMs: { p99: 49.9 } }), 6000)).toEqual([]);
    expect(tryMisses(good({ fromScheduleMs: { p99: 50 } }), 6000)).toEqual(['p99 50 ms']);
    expect(tryMisses(good({ completed: 0, achievedRate: 0, fromScheduleMs: { p99: null } }), 6000)).toEqual([
      '12000 unanswered',
      '0 req/s achieved',
      'p99 null ms',
    ]);
  });

  it('judges the p99 from when each request was due, not from when it left (no coordinated omission)', () => {
    // Requests the client sent up to 10 ms late (not counted late) took 45 ms from their send: 55 ms from their time.
    expect(tryMisses(good({ latencyMs: { p99: 45 }, fromScheduleMs: { p99: 55 } }), 6000)).toEqual(['p99 55 ms']);
    expect(tryMisses(good({ latencyMs: { p99: 55 }, fromScheduleMs: { p99: 49 } }), 6000)).toEqual([]);
  });

  it('names every condition it broke', () => {
    expect(tryMisses(good({ achievedRate: 5700, late: 500, maxLateMs: 60, fromScheduleMs: { p99: 59.5 } }), 5800)).toEqual([
      '5700 req/s achieved',
      '500 sent over 10 ms late (up to 60 ms)',
      'p99 59.5 ms',
    ]);
  });
});

describe('a rate', () => {
  it('is decided by a majority of its tries, and undecided before', () => {
    expect(stepVerdict([], 3)).toBeUndefined();
    expect(stepVerdict([true], 3)).toBeUndefined();
    expect(stepVerdict([true, false], 3)).toBeUndefined();
    expect(stepVerdict([true, true], 3)).toBe(true);
    expect(stepVerdict([false, false], 3)).toBe(false);
    expect(stepVerdict([false, true, true], 3)).toBe(true);
    expect(stepVerdict([true, false, false], 3)).toBe(false);
    expect(stepVerdict([false], 1)).toBe(false);
    expect(stepVerdict([true, false], 2)).toBeUndefined();
  });
});

describe('the search', () => {
  const STEPS = [2000, 3000, 4000, 5000, 6000, 8000];
  /** The rates a path tries whose every try passes up to `ceiling`, and the rate it ends with. */
  function search(ceiling: number, bisections = 3, startStep = 0) {
    let s = startSearch(startStep);
    const tried: number[] = [];
    for (let rate = nextRate(s, STEPS, bisections); rate !== undefined; rate = nextRate(s, STEPS, bisections)) {
      tried.push(rate);
      s = afterVerdict(s, rate, rate <= ceiling);
    }
    return { tried, rate: s.rate };
  }

  it('climbs to the first missed step, then bisects between it and the last passed one', () => {
    expect(search(5700)).toEqual({ tried: [2000, 3000, 4000, 5000, 6000, 5500, 5800, 5700], rate: 5700 });
    expect(search(5700, 0)).toEqual({ tried: [2000, 3000, 4000, 5000, 6000], rate: 5000 });
  });

  it('stops at the end of the ramp when every step passes, and at once when the first one misses', () => {
    expect(search(100_000)).toEqual({ tried: STEPS, rate: 8000 });
    expect(search(1000)).toEqual({ tried: [2000], rate: 0 });
  });

  it('stops bisecting when no 100 req/s rate is left between', () => {
    expect(search(2000, 10)).toEqual({ tried: [2000, 3000, 2500, 2300, 2200, 2100], rate: 2000 });
  });

  it("starts a later search below the first one's rate, and walks down the ramp when that step misses", () => {
    // Two ramp steps under 5,700 (5,000 and 4,000): 4,000, then up as before.
    expect(restartStep(STEPS, 5700, 2)).toBe(2);
    expect(search(5700, 3, restartStep(STEPS, 5700, 2))).toEqual({ tried: [4000, 5000, 6000, 5500, 5800, 5700], rate: 5700 });
    // Exactly on a step: the two under it.
    expect(restartStep(STEPS, 6000, 2)).toBe(2);
    // Too few steps under it, or no rate at all: the ramp's bottom.
    expect(restartStep(STEPS, 2500, 2)).toBe(0);
    expect(restartStep(STEPS, 0, 2)).toBe(0);
    // A first search that was lucky: the later one starts above its own ceiling, walks down, then bisects (the steps
    // down are not bisections).
    expect(search(3400, 3, restartStep(STEPS, 6000, 2))).toEqual({ tried: [4000, 3000, 3500, 3300, 3400], rate: 3400 });
    expect(search(1000, 3, 3)).toEqual({ tried: [5000, 4000, 3000, 2000], rate: 0 });
  });
});

describe('the figure from several searches', () => {
  it("is the ratio of the paths' medians, with each search's rates, range and ratio beside", () => {
    // Session 23's two quiet runs and a third: one unlucky search per path cannot set the figure.
    expect(searchesFigure({ bare: [15_000, 11_500, 12_000], proxy: [12_000, 8000, 9600] })).toEqual({
      bare: { rates: [15_000, 11_500, 12_000], median: 12_000, min: 11_500, max: 15_000 },
      proxy: { rates: [12_000, 8000, 9600], median: 9600, min: 8000, max: 12_000 },
      ratio: 0.8,
      ratios: [0.8, 0.7, 0.8],
    });
  });

  it('takes the mean of the middle two of an even count, and gives no ratio when the pass-through sustained nothing', () => {
    expect(searchesFigure({ bare: [10_000, 11_000], proxy: [8000, 8500] })).toMatchObject({ bare: { median: 10_500 }, proxy: { median: 8250 }, ratio: 0.79 });
    expect(searchesFigure({ bare: [0, 0, 2000], proxy: [0, 0, 2000] })).toMatchObject({ ratio: null, ratios: [null, null, 1] });
  });
});
