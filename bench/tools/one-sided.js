// onesided30: green requests until a rate rule can breach, with the one-sided bounds the rules judge on since
// session 30 (dist/analysis/sequential.ts) against the two-sided mixture interval before it, on the same seeded
// streams: a green failing at a multiple of the limit, judged after every request; the median (and p90) over
// `streams` streams per cell. Also the requests a green failing none needs before a rule reads ok.
//   node bench/tools/one-sided.js [streams]
import { logOneSidedRatio, priorAround, rateBounds } from '../../dist/analysis/sequential.js';
import { logBeta } from '../../dist/analysis/log-beta.js';
import { createRandom } from '../../dist/core/random.js';

const STREAMS = Number(process.argv[2] ?? 201);
const ALPHAS = [0.01, 0.002, 0.0005];
const MULTIPLES = [1.5, 2, 3, 5, 10];

/** log M_n(limit) of the two-sided mixture (Howard et al. 2021, the beta-binomial mixture over every rate). */
function logTwoSided(x, n, p, prior) {
  return logBeta(prior.a + x, prior.b + n - x) - logBeta(prior.a, prior.b) - (x > 0 ? x * Math.log(p) : 0) - (n > x ? (n - x) * Math.log1p(-p) : 0);
}

function toBreach(limit, rate, alpha, seed) {
  const prior = priorAround(limit);
  const bound = Math.log(1 / alpha);
  const next = createRandom(seed);
  let x = 0;
  let before;
  let after;
  for (let n = 1; before === undefined || after === undefined; n++) {
    if (next() < rate) x++;
    // Before: the two-sided interval's lower end over the limit; now: the one-sided lower bound over it.
    if (before === undefined && x / n > limit && logTwoSided(x, n, limit, prior) >= bound) before = n;
    if (after === undefined && logOneSidedRatio(x, n, limit, prior, 'above') >= bound) after = n;
  }
  return { before, after };
}

const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))];
const rows = [];
for (const limit of [0.05, 0.01]) {
  for (const multiple of MULTIPLES) {
    for (const alpha of ALPHAS) {
      const runs = Array.from({ length: STREAMS }, (_, s) => toBreach(limit, limit * multiple, alpha, 31_000 + s));
      const before = runs.map((r) => r.before);
      const after = runs.map((r) => r.after);
      const median = { before: quantile(before, 0.5), after: quantile(after, 0.5) };
      rows.push({
        limit,
        multiple,
        alpha,
        median,
        p90: { before: quantile(before, 0.9), after: quantile(after, 0.9) },
        fewer: 1 - median.after / median.before,
      });
      console.log(
        `limit ${limit * 100}% at ${multiple}x, alpha ${alpha}: median ${median.before} -> ${median.after} (${(100 * (1 - median.after / median.before)).toFixed(1)}% fewer), p90 ${quantile(before, 0.9)} -> ${quantile(after, 0.9)}`,
      );
    }
  }
}
for (const limit of [0.05, 0.01]) {
  for (const alpha of ALPHAS) {
    const prior = priorAround(limit);
    let n = 1;
    while (rateBounds(0, n, alpha, prior).upper > limit) n++;
    let m = 1;
    // Before: the two-sided interval's upper end, where its mixture reaches 1/alpha above the estimate 0.
    while (logTwoSided(0, m, limit, prior) < Math.log(1 / alpha)) m++;
    console.log(`ok with no failures, limit ${limit * 100}%, alpha ${alpha}: ${m} -> ${n} requests`);
  }
}
