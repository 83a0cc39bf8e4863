// The proxy benchmark's rule for a sustained rate (bench/proxy.js): when one try passes, when a rate does, which
// rate the search tries next, where a later search starts, and the figure read from several searches. Apart from
// the benchmark so it can be tested with known tries (test/bench).
import { LATE_MS } from './open-load.js';
import { median } from './rounds.js';

/**
 * A try is sustained when every request it offered was answered without error (none dropped, none lost), at 99% of
 * the offered rate, with p99 under 50 ms, and the client kept its schedule: at most 1% of the requests left more than
 * LATE_MS after their time. 1% is the same slack the achieved rate has, and 20 ms of a 2 s try: one pause of the
 * client's own (a GC of ~30 ms) passes, while a client kept from the CPU for a tenth of the try fails it. Without the
 * bound such a client offers less than the rate while it waits, and the path's queueing goes unmeasured. The p99 is
 * taken from each request's due time (since session 22; before, from when it left): a request the client sent late
 * carries its wait too, so no lateness under LATE_MS, nor the late 1%'s, drops out of the latency judged.
 */
export const SUSTAINED = { achievedShare: 0.99, p99Ms: 50, lateShare: 0.01 };

/**
 * @typedef {{ offered: number; completed: number; errors: number; dropped: number; late: number; maxLateMs: number;
 *   achievedRate: number; fromScheduleMs: { p99: number | null } }} TryResult
 */

/**
 * Why a try at `rate` missed: one short reason per condition it broke (none: sustained).
 * @param {TryResult} t
 * @param {number} rate
 * @returns {string[]}
 */
export function tryMisses(t, rate) {
  const misses = [];
  if (t.errors > 0) misses.push(`${t.errors} failed`);
  if (t.dropped > 0) misses.push(`${t.dropped} dropped`);
  const lost = t.offered - t.completed - t.dropped;
  if (lost > 0) misses.push(`${lost} unanswered`);
  if (t.achievedRate < SUSTAINED.achievedShare * rate) misses.push(`${t.achievedRate} req/s achieved`);
  if (t.late > SUSTAINED.lateShare * t.offered) misses.push(`${t.late} sent over ${LATE_MS} ms late (up to ${t.maxLateMs} ms)`);
  const p99 = t.fromScheduleMs.p99;
  if (p99 === null || p99 >= SUSTAINED.p99Ms) misses.push(`p99 ${p99} ms`);
  return misses;
}

/**
 * A rate's verdict from its tries so far (true: passed): sustained once a majority of `tries` passed, missed once a
 * majority missed, undefined while neither (one VM stall cannot fail a rate, one lucky second cannot pass it).
 * @param {boolean[]} passed
 * @param {number} tries
 * @returns {boolean | undefined}
 */
export function stepVerdict(passed, tries) {
  const need = Math.floor(tries / 2) + 1;
  const ok = passed.filter(Boolean).length;
  if (ok >= need) return true;
  if (passed.length - ok >= need) return false;
  return undefined;
}

/**
 * @typedef {{ rate: number; missed: number; step: number; bisections: number }} SearchState the highest rate
 *   sustained (0: none yet), the lowest missed (Infinity: none yet), the ramp step reached, the bisections made
 */

/**
 * A path's search before its first try, from the ramp's step `startStep` (0: its bottom).
 * @param {number} [startStep]
 * @returns {SearchState}
 */
export const startSearch = (startStep = 0) => ({ rate: 0, missed: Infinity, step: startStep, bisections: 0 });

/**
 * The search after a rate's verdict: it climbs `steps` until the first missed one, then bisects `bisections` times
 * between the last sustained rate and the lowest missed (rates rounded to 100 req/s). A search started above the
 * ramp's bottom whose first step misses walks down the ramp until a step passes, then bisects: those steps down are
 * not bisections.
 * @param {SearchState} s
 * @param {number} rate
 * @param {boolean} ok
 * @returns {SearchState}
 */
export function afterVerdict(s, rate, ok) {
  const bisecting = s.missed !== Infinity && s.rate > 0;
  const rateNow = ok ? Math.max(s.rate, rate) : s.rate;
  const missed = ok ? s.missed : Math.min(s.missed, rate);
  return { rate: rateNow, missed, step: missed === Infinity ? s.step + 1 : s.step, bisections: s.bisections + (bisecting ? 1 : 0) };
}

/**
 * The rate to try next, or undefined when the search is over (the ramp's end, the bisections made, or no step passed
 * down to the ramp's bottom).
 * @param {SearchState} s
 * @param {readonly number[]} steps
 * @param {number} bisections
 */
export function nextRate(s, steps, bisections) {
  if (s.missed === Infinity) return steps[s.step];
  if (s.rate === 0) return steps.findLast((r) => r < s.missed);
  if (s.bisections >= bisections) return undefined;
  const mid = Math.round((s.rate + s.missed) / 200) * 100;
  return mid > s.rate && mid < s.missed ? mid : undefined;
}

/**
 * Where a later search of a path starts: `below` ramp steps under the rate its first search sustained (the ramp's
 * bottom when there are not that many), so it skips the low steps every search passes and spends its time near the
 * ceiling. Its first step missed, it walks down (afterVerdict), so a first search that was lucky cannot lift it.
 * @param {readonly number[]} steps
 * @param {number} previousRate
 * @param {number} below
 */
export function restartStep(steps, previousRate, below) {
  return Math.max(0, steps.filter((r) => r < previousRate).length - below);
}

/**
 * The sustained figure from several whole searches (since session 24): per path each search's rate, their median
 * and range; the ratio judged is the proxy's median over the pass-through's (null: the pass-through's median is 0),
 * and each search's own ratio is beside it (null where its pass-through sustained nothing).
 * @param {{ bare: number[]; proxy: number[] }} rates each path's rate, search by search
 */
export function searchesFigure(rates) {
  const ratio = (/** @type {number | null} */ proxy, /** @type {number | null} */ bare) => (bare ? Math.round((100 * (proxy ?? 0)) / bare) / 100 : null);
  const path = (/** @type {number[]} */ list) => ({ rates: list, median: median(list) ?? 0, min: Math.min(...list), max: Math.max(...list) });
  const bare = path(rates.bare);
  const proxy = path(rates.proxy);
  return { bare, proxy, ratio: ratio(proxy.median, bare.median), ratios: rates.bare.map((b, i) => ratio(rates.proxy[i], b)) };
}
