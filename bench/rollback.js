// 5. Rollback speed: green starts failing every request (or answering slowly) at a known moment in stage 1
// (10% green, 50 req/s). Time from the fault to green weight 0 (the rolled_back event), and how many green
// requests failed (or were sent at all) before it. The built-in simulator plays the upstream, with the fault
// as a `changes` entry, exactly as a plan would write it.
import { createBenchEngine, openClients } from './lib/engine.js';
import { planFromYaml } from './lib/plan.js';
import { QUICK, envNumber, log, sleep, writeResult } from './lib/util.js';

const TRIALS = envNumber('BENCH_ROLLBACK_TRIALS', QUICK ? 1 : 3);
const FAULT_AT_MS = envNumber('BENCH_ROLLBACK_FAULT_AT_MS', 6000);
const INTERVAL_MS = envNumber('BENCH_ROLLBACK_INTERVAL_MS', 2000);
const RATE = 50;
const LATENCY_LIMIT_MS = 2000;
const MIN_REQUESTS = 20;

// After the rollback, in-flight requests get this long to finish before the run is cut short.
const DRAIN_MS = 1500;

const SCENARIOS = {
  errors: { change: 'error_rate: 1', describe: 'every green request fails (HTTP 500)' },
  latency: { change: 'latency: { p50: 3s, p95: 4s }', describe: 'green answers take 3 s (p95 4 s) instead of 250 ms; latency_p95 limit 2 s' },
};

function planYaml(scenario, seed) {
  return `
name: bench-rollback-${scenario}
upstream:
  api: openai
  simulate:
    seed: ${seed}
    models:
      bench-blue:  { latency: { p50: 300ms, p95: 900ms } }
      bench-green: { latency: { p50: 250ms, p95: 700ms }, changes: [ { at: ${FAULT_AT_MS}ms, ${SCENARIOS[scenario].change} } ] }
  timeout: { connect: 2s, request: 10s }
  retries: { max: 2, base_delay: 100ms, max_delay: 1s }
blue:  { model: bench-blue,  price: { input_per_mtok: 2.50, output_per_mtok: 10.00 } }
green: { model: bench-green, price: { input_per_mtok: 2.00, output_per_mtok: 8.00 } }
traffic:
  rate: ${RATE}
  max_in_flight: 200
  stream: 0
  synthetic: { users: 500 }
stages:
  - { duration: 60s, green_weight: 0.10 }
  - { duration: 60s, green_weight: 0.25 }
analysis:
  interval: ${INTERVAL_MS}ms
  min_requests: ${MIN_REQUESTS}
  thresholds: { error_rate: 0.05, consecutive_errors: 5, latency_p95: ${LATENCY_LIMIT_MS}ms }
  compare_to_blue: { max_error_rate_increase: 0.02 }
`;
}

async function trial(scenario, seed) {
  const plan = planFromYaml(planYaml(scenario, seed));
  let simStart;
  const now = () => {
    const t = Date.now();
    simStart ??= t;
    return t;
  };
  const { clients: real, close } = await openClients(plan, { now });
  const faultAt = simStart + FAULT_AT_MS;
  const green = [];
  const clients = {
    blue: real.blue,
    green: {
      send(request, cancel) {
        /** @type {{ sentAt: number, doneAt?: number, ok?: boolean, latencyMs?: number, cancelled: boolean }} */
        const entry = { sentAt: Date.now(), cancelled: false };
        green.push(entry);
        return real.green.send(request, cancel).then(
          (result) => {
            entry.doneAt = Date.now();
            entry.ok = result.ok;
            entry.latencyMs = result.latencyMs;
            return result;
          },
          (error) => {
            entry.doneAt = Date.now();
            entry.cancelled = true;
            throw error;
          },
        );
      },
      listModels: (cancel) => real.green.listModels(cancel),
    },
  };
  const { engine, events } = await createBenchEngine({ plan, clients, seed });
  let rolledBackAt;
  engine.onEvent((event) => {
    if (event.type === 'rolled_back') rolledBackAt = event.at;
  });
  const done = engine.run();
  // Bounded: the fault comes at FAULT_AT_MS; give detection 20 s before calling it a miss.
  const deadline = faultAt + 20_000;
  while (rolledBackAt === undefined && Date.now() < deadline) await sleep(50);
  if (rolledBackAt !== undefined) await sleep(DRAIN_MS);
  // Ends the run at once: a first interrupt rolls back (a no-op after a rollback), a second cancels the drain.
  engine.interrupt('SIGINT');
  engine.interrupt('SIGINT');
  await done;
  await close();

  const rolled = events.find((e) => e.type === 'rolled_back');
  const stageStart = events.find((e) => e.type === 'stage_started')?.at;
  const afterFault = green.filter((g) => g.sentAt >= faultAt);
  const finished = (g) => g.doneAt !== undefined && !g.cancelled;
  const bad = (g) => finished(g) && (scenario === 'errors' ? g.ok === false : g.sentAt >= faultAt);
  // The first moment the fault could be seen: the first failed answer coming back or, for latency, the first
  // green request sent after the fault running past the limit (it is slow from then on, answered or not).
  const firstEvidenceAt =
    scenario === 'latency' ? Math.min(...afterFault.map((g) => g.sentAt + LATENCY_LIMIT_MS)) : Math.min(...green.filter(bad).map((g) => g.doneAt));
  const firstSlowAnswerAt = Math.min(...green.filter((g) => finished(g) && g.sentAt >= faultAt).map((g) => g.doneAt));
  const row = {
    scenario,
    seed,
    faultInStageMs: stageStart !== undefined ? faultAt - stageStart : null,
    rolledBack: Boolean(rolled),
    rule: rolled?.breach?.rule ?? null,
    message: rolled?.breach?.message ?? null,
    detectionMs: rolledBackAt !== undefined ? rolledBackAt - faultAt : null,
    detectionAfterFirstEvidenceMs: rolledBackAt !== undefined && Number.isFinite(firstEvidenceAt) ? rolledBackAt - firstEvidenceAt : null,
    // Negative when the rollback came before any slow answer did (latency judged on requests still running).
    detectionAfterFirstSlowAnswerMs:
      scenario === 'latency' && rolledBackAt !== undefined && Number.isFinite(firstSlowAnswerAt) ? rolledBackAt - firstSlowAnswerAt : null,
    greenSentBeforeRollback: afterFault.filter((g) => rolledBackAt === undefined || g.sentAt <= rolledBackAt).length,
    greenFailedBeforeRollback: green.filter((g) => finished(g) && g.ok === false && g.doneAt <= (rolledBackAt ?? Infinity)).length,
    greenFailedInAll: green.filter((g) => finished(g) && g.ok === false).length,
    greenSentAfterRollback: green.filter((g) => rolledBackAt !== undefined && g.sentAt > rolledBackAt).length,
  };
  log(
    `rollback ${scenario.padEnd(7)} seed ${seed}: fault ${row.faultInStageMs} ms into stage 1; rolled back ${row.detectionMs} ms after it ` +
      `(${row.detectionAfterFirstEvidenceMs} ms after the first evidence${scenario === 'latency' ? `, ${row.detectionAfterFirstSlowAnswerMs} ms after the first slow answer` : ''}) by ${row.rule}; ` +
      `green sent since the fault ${row.greenSentBeforeRollback}, failed before rollback ${row.greenFailedBeforeRollback}, in all ${row.greenFailedInAll}`,
  );
  return row;
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};
const max = (xs) => (xs.some((x) => x === null) ? null : Math.max(...xs));

const results = {};
const limit = INTERVAL_MS + 1000;
for (const scenario of Object.keys(SCENARIOS)) {
  const trials = [];
  for (let i = 0; i < TRIALS; i++) trials.push(await trial(scenario, i + 1));
  const detection = trials.map((t) => t.detectionMs);
  const afterEvidence = trials.map((t) => t.detectionAfterFirstEvidenceMs);
  const afterSlowAnswer = trials.map((t) => t.detectionAfterFirstSlowAnswerMs);
  const slowest = max(detection);
  results[scenario] = {
    describe: SCENARIOS[scenario].describe,
    trials,
    detectionMs: { median: median(detection), max: slowest },
    detectionAfterFirstEvidenceMs: { median: median(afterEvidence), max: max(afterEvidence) },
    detectionAfterFirstSlowAnswerMs: scenario === 'latency' ? { median: median(afterSlowAnswer), max: max(afterSlowAnswer) } : null,
    greenFailedBeforeRollback: { median: median(trials.map((t) => t.greenFailedBeforeRollback)), max: max(trials.map((t) => t.greenFailedBeforeRollback)) },
    greenSentBeforeRollback: { median: median(trials.map((t) => t.greenSentBeforeRollback)), max: max(trials.map((t) => t.greenSentBeforeRollback)) },
    judgedFrom: 'the fault',
    met: trials.every((t) => t.rolledBack) && slowest !== null && slowest <= limit,
  };
}

writeResult({
  name: 'rollback',
  rate: RATE,
  greenWeight: 0.1,
  analysisIntervalMs: INTERVAL_MS,
  faultAtMs: FAULT_AT_MS,
  trialsPerScenario: TRIALS,
  ...results,
  target: { withinMs: limit },
  met: Object.values(results).every((r) => r.met),
});
