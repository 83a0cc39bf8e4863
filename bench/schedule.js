// 2. Schedule accuracy: 1,000 req/s against an upstream that answers after 200 ms, for 30 s. Achieved rate
// against the target, the lag between each request's scheduled time and the moment the engine hands it to
// the upstream client, and dropped requests. The arrival schedule runs on the steady clock (performance.now,
// since session 24), and lags are read on it; lagMsDateNow reads them as the wall clock would, to the millisecond.
import { createBenchEngine, openClients, totals } from './lib/engine.js';
import { loopbackPlanYaml, planFromYaml, tempDir } from './lib/plan.js';
import { startUpstream } from './lib/upstream.js';
import { QUICK, envNumber, log, percentile, round, writeResult } from './lib/util.js';

const RATE = envNumber('BENCH_SCHEDULE_RATE', 1000);
const DELAY_MS = envNumber('BENCH_SCHEDULE_DELAY_MS', 200);
const DURATION_MS = envNumber('BENCH_SCHEDULE_MS', QUICK ? 10_000 : 30_000);
const WARMUP_MS = envNumber('BENCH_WARMUP_MS', 2000);
// 1,000 req/s x 200 ms is 200 in flight; leave room so a drop means the engine fell behind, not the limit.
const MAX_IN_FLIGHT = envNumber('BENCH_SCHEDULE_MAX_IN_FLIGHT', 600);

const upstream = await startUpstream({ delayMs: DELAY_MS });
const plan = planFromYaml(
  loopbackPlanYaml({ baseUrl: upstream.baseUrl, rate: RATE, durationMs: DURATION_MS, warmupMs: WARMUP_MS, maxInFlight: MAX_IN_FLIGHT, name: 'bench-schedule' }),
);
const measured = plan.stages.length - 1;
const { clients: real, close } = await openClients(plan);
// The scheduler's times (scheduledAt) are steady readings: performance.now(), as the system clock's steadyNow.
const hrNow = () => performance.now();
// The wall clock's lead over the steady one, for the lag as a Date.now() reading sees it.
const wallLead = Date.now() - performance.now();

// The scheduler calls onArrival(scheduledAt) and the engine dispatches synchronously, so the next send() is
// that arrival's (unless it was dropped, which the metrics count).
let scheduledAt = 0;
let measuring = false;
let started = false;
const capacity = Math.ceil((RATE * DURATION_MS) / 1000) + 1000;
const lags = new Float64Array(capacity);
const coarseLags = new Float64Array(capacity);
let sends = 0;
// The warm-up stage (cold pool: every connection is opened on demand) is kept apart and reported too.
const coldLags = [];
let firstSendAt = 0;
let lastSendAt = 0;
const lagAtSend = (arm) => ({
  send(request, cancel) {
    if (!measuring && started && coldLags.length < capacity) coldLags.push(hrNow() - scheduledAt);
    if (measuring && sends < capacity) {
      const now = hrNow();
      if (sends === 0) firstSendAt = now;
      lastSendAt = now;
      lags[sends] = now - scheduledAt;
      coarseLags[sends] = Date.now() - wallLead - scheduledAt;
      sends++;
    }
    return real[arm].send(request, cancel);
  },
  listModels: (cancel) => real[arm].listModels(cancel),
});
const clients = { blue: lagAtSend('blue'), green: lagAtSend('green') };

const { engine, scheduler } = await createBenchEngine({
  plan,
  clients,
  stateDir: tempDir(),
  onArrival: (at) => {
    started = true;
    scheduledAt = at;
  },
});
let arrivalsAtStart = 0;
engine.onEvent((event) => {
  if (event.type === 'stage_started' && event.stage === measured) {
    measuring = true;
    arrivalsAtStart = scheduler().stats().arrivals;
  }
  if (event.type === 'stage_passed' && event.stage === measured) {
    measuring = false;
    started = false;
  }
});
log(`schedule: ${RATE} req/s, upstream latency ${DELAY_MS} ms, ${WARMUP_MS / 1000} s warm-up + ${DURATION_MS / 1000} s measured`);
const outcome = await engine.run();
const snap = engine.snapshot();
const stage = snap.stages[measured];
const t = totals({ stages: [stage] });
if (stage.startedAt === undefined || stage.endedAt === undefined) throw new Error('the measured stage did not run to its end');
const stageMs = stage.endedAt - stage.startedAt;
const arrivals = scheduler().stats().arrivals - arrivalsAtStart;
await close();
await upstream.close();

const sorted = Array.from(lags.subarray(0, sends)).sort((a, b) => a - b);
const coarse = Array.from(coarseLags.subarray(0, sends)).sort((a, b) => a - b);
// Requests handed to the client per second of the measured stage, and per second between first and last send.
const achieved = sends / (stageMs / 1000);
const sendSpanRate = sends > 1 ? ((sends - 1) * 1000) / (lastSendAt - firstSendAt) : 0;
const p99 = percentile(sorted, 99);
const errorPct = (100 * (achieved - RATE)) / RATE;
const met = Math.abs(errorPct) <= 1 && p99 < 5 && t.dropped === 0;
const result = {
  name: 'schedule',
  rate: RATE,
  upstreamDelayMs: DELAY_MS,
  seconds: DURATION_MS / 1000,
  exitCode: outcome.exitCode,
  arrivals,
  sent: sends,
  completed: t.requests,
  failures: t.failures,
  dropped: t.dropped,
  achievedRate: round(achieved, 1),
  sendSpanRate: round(sendSpanRate, 1),
  rateErrorPercent: round(errorPct, 3),
  lagMs: {
    p50: round(percentile(sorted, 50), 3),
    p90: round(percentile(sorted, 90), 3),
    p99: round(p99, 3),
    p999: round(percentile(sorted, 99.9), 3),
    max: round(sorted[sorted.length - 1], 3),
    mean: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length), 3),
  },
  warmUpLagMs: (() => {
    const cold = coldLags.sort((a, b) => a - b);
    return { sent: cold.length, p50: round(percentile(cold, 50), 3), p99: round(percentile(cold, 99), 3), max: round(cold[cold.length - 1], 3) };
  })(),
  lagMsDateNow: { p50: round(percentile(coarse, 50), 3), p99: round(percentile(coarse, 99), 3), max: round(coarse[coarse.length - 1], 3) },
  latencyMs: stage.arms.blue.latency,
  target: { rateWithinPercent: 1, lagP99Ms: 5, dropped: 0 },
  met,
};
log(
  `schedule: achieved ${result.achievedRate} req/s (${result.rateErrorPercent}%), lag p50 ${result.lagMs.p50} p99 ${result.lagMs.p99} max ${result.lagMs.max} ms, dropped ${t.dropped}`,
);
writeResult(result);
