// inflight17: what judging a passed stage again on its late results (stage-steps.ts judgeLate) costs a green within
// its limits. A stage's green answers one at a time (a seeded Bernoulli stream at `rate`), judged by the real
// evaluate() every `every` answers and at the stage's end; then `late` more answers (the requests that outlived the
// end's wait, at `lateRate`), judged again after each. Counts the rollouts a breach rolls back before the end, and
// those only the late looks roll back. Anytime-valid bounds should keep the sum within the stage's budget.
//   node bench/tools/late-looks.js [rollouts]
import { evaluate } from '../../dist/analysis/index.js';
import { emptyArmStats } from '../../dist/metrics/types.js';
import { createRandom } from '../../dist/core/random.js';
import { planFromYaml } from '../lib/plan.js';

const ROLLOUTS = Number(process.argv[2] ?? 4000);
const plan = planFromYaml(`name: late-looks
upstream: { simulate: { models: {} } }
blue: { model: b }
green: { model: g }
traffic: { rate: 10 }
stages:
  - { duration: 60s, green_weight: 0.5 }
  - { duration: 60s, green_weight: 1 }
analysis: { interval: 1s, min_requests: 20, thresholds: { error_rate: 0.05 } }
`);

function stats(requests, failures) {
  return { ...emptyArmStats(), requests, successes: requests - failures, failures, ...(failures > 0 && { failuresByClass: { server_error: failures } }) };
}

function run({ rate, lateRate, answers, late, every }) {
  let before = 0;
  let onlyLate = 0;
  for (let seed = 1; seed <= ROLLOUTS; seed++) {
    const rng = createRandom(seed);
    let requests = 0;
    let failures = 0;
    const breach = () =>
      evaluate({ stageIndex: 0, stageCount: 2, green: stats(requests, failures), blue: stats(requests, 0), config: plan.analysis }).breach !== undefined;
    let rolledBack = false;
    for (let i = 0; i < answers && !rolledBack; i++) {
      requests++;
      if (rng() < rate) failures++;
      if ((i + 1) % every === 0 || i + 1 === answers) rolledBack = breach();
    }
    if (rolledBack) {
      before++;
      continue;
    }
    for (let i = 0; i < late; i++) {
      requests++;
      if (rng() < lateRate) failures++;
      if (breach()) {
        onlyLate++;
        break;
      }
    }
  }
  return { before: before / ROLLOUTS, onlyLate: onlyLate / ROLLOUTS };
}

const rows = [
  { name: 'green at the limit (5%), late answers like the rest', rate: 0.05, lateRate: 0.05, answers: 300, late: 30, every: 10 },
  { name: 'green at the limit (5%), many late answers', rate: 0.05, lateRate: 0.05, answers: 300, late: 300, every: 10 },
  { name: 'green within (3%), late answers fail 3x more (9%)', rate: 0.03, lateRate: 0.09, answers: 300, late: 30, every: 10 },
  { name: 'green over the limit on its whole sample (12.5%): its late answers fail (50%)', rate: 0.05, lateRate: 0.5, answers: 300, late: 60, every: 10 },
];
for (const row of rows) {
  const { before, onlyLate } = run(row);
  console.log(
    `${row.name}: rolled back by its end ${(100 * before).toFixed(2)}%, only by the late looks ${(100 * onlyLate).toFixed(2)}% (${ROLLOUTS} rollouts)`,
  );
}
