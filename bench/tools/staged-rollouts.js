// What ratio-power.js and rate-power.js share: a 100 req/s rollout's seeded arrivals over staged green weights, and
// the line each prints for a variant's catches.
import { createRandom } from '../../dist/core/random.js';

/**
 * One rollout's requests, in order sent: Poisson arrivals at `rate` a second over `weights.length` stages of
 * `stageMs`, each green with its stage's weight; `draw(next, green, sentAt)` gives the rest of the request's tuple.
 * @template T
 * @param {number} seed
 * @param {{ rate: number, stageMs: number, weights: number[] }} plan
 * @param {(next: () => number, green: boolean, sentAt: number) => T[]} draw
 * @returns {[number, number, ...T[]][]} [sentAt (ms), arm (0 blue, 1 green), ...draw's]
 */
export function stagedStream(seed, { rate, stageMs, weights }, draw) {
  const next = createRandom(seed);
  /** @type {[number, number, ...T[]][]} */
  const requests = [];
  let t = 0;
  for (;;) {
    t -= (Math.log(1 - next()) / rate) * 1000;
    if (t >= stageMs * weights.length) return requests;
    const green = next() < weights[Math.floor(t / stageMs)];
    requests.push([t, green ? 1 : 0, ...draw(next, green, t)]);
  }
}

/** The q-quantile of `values` (the lower one), or '-' when there are none. */
function quantile(values, q) {
  return values.length ? [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))] : '-';
}

/**
 * A variant's line: share caught, seconds and green requests to the catch (median / p90), catches by stage.
 * @param {{ at: number, stage: number, greenRequests: number }[]} caught
 */
export function caughtLine(caught, rollouts, stages) {
  const at = caught.map((c) => c.at);
  const green = caught.map((c) => c.greenRequests);
  const byStage = Array.from({ length: stages }, (_, s) => caught.filter((c) => c.stage === s + 1).length);
  return (
    `caught ${((100 * caught.length) / rollouts).toFixed(1)}%  s median/p90 ${quantile(at, 0.5)} / ${quantile(at, 0.9)}` +
    `  green median/p90 ${quantile(green, 0.5)} / ${quantile(green, 0.9)}  by stage ${byStage.join('/')}`
  );
}
