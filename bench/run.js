// `npm run bench`: builds (the npm script), then runs the benchmarks one after another, each in its own
// process so memory figures are its own, prints a table and writes bench/results/latest.json.
//   node bench/run.js [--quick] [--only throughput,schedule,...]
// Environment knobs are listed in docs/benchmarks.md; every run is bounded in time.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { limitMs } from './lib/limits.js';
import { QUICK, machineInfo, mbText, round } from './lib/util.js';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(BENCH, 'results');
const ALL = ['throughput', 'schedule', 'memory', 'dashboard', 'rollback', 'verdicts', 'proxy', 'live', 'startup'];
const onlyArg = process.argv.find((a, i) => process.argv[i - 1] === '--only') ?? process.argv.find((a) => a.startsWith('--only='))?.slice(7);
const selected = onlyArg ? onlyArg.split(',').map((s) => s.trim()) : ALL;
for (const name of selected) {
  if (!ALL.includes(name)) {
    process.stderr.write(`bench: unknown benchmark "${name}" (one of ${ALL.join(', ')})\n`);
    process.exit(2);
  }
}
if (!existsSync(path.join(BENCH, '..', 'dist', 'engine', 'rollout.js'))) {
  process.stderr.write('bench: dist/ is missing; run `npm run bench` (it builds first) or `npm run build`\n');
  process.exit(2);
}

/** Linux: total busy and total CPU ticks of the machine, and the ticks our finished children used. */
function cpuTicks() {
  try {
    const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
    const f = cpu.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + f[4];
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const own = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { busy: total - idle, total, ours: Number(own[13]) + Number(own[14]) };
  } catch {
    return undefined;
  }
}

/**
 * How busy the machine was with other work while a benchmark ran, as a share of all its cores: benchmarks on
 * a shared machine are only comparable when this is near 0.
 */
function otherLoad(before, after) {
  if (!before || !after || after.total <= before.total) return null;
  const others = after.busy - before.busy - (after.ours - before.ours);
  return round((100 * Math.max(0, others)) / (after.total - before.total), 1);
}

/** Set by Ctrl-C or SIGTERM: the benchmark running is stopped and no other starts. */
let stopped = false;

function runChild(name, env) {
  const out = path.join(os.tmpdir(), `bluegreen-bench-${name}-${process.pid}.json`);
  rmSync(out, { force: true });
  const args = [...(name === 'memory' ? ['--expose-gc'] : []), path.join(BENCH, `${name}.js`), ...(QUICK ? ['--quick'] : [])];
  const started = Date.now();
  const limit = limitMs(name, QUICK);
  const ticks = cpuTicks();
  return new Promise((resolve) => {
    // Its own process group, so a timeout kills what it started too (proxies, upstreams: killed alone, it left them
    // running, and the next benchmark measured beside them). Ctrl-C reaches only the terminal's group: passed on.
    // BENCH_DEADLINE (ms since the epoch): when it is killed, for a benchmark that paces itself (the proxy's RSS step).
    const childEnv = { ...process.env, ...env, BENCH_OUT: out, BENCH_DEADLINE: String(started + limit) };
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env: childEnv, detached: true });
    const signalGroup = (signal) => {
      try {
        process.kill(-(child.pid ?? 0), signal);
      } catch {
        // The group has gone already.
      }
    };
    const timer = setTimeout(() => signalGroup('SIGKILL'), limit);
    const passOn = (signal) => {
      signalGroup(signal);
      process.exitCode = signal === 'SIGINT' ? 130 : 143;
      stopped = true;
    };
    process.on('SIGINT', passOn);
    process.on('SIGTERM', passOn);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', passOn);
      process.off('SIGTERM', passOn);
      const seconds = round((Date.now() - started) / 1000, 1);
      let result;
      try {
        result = JSON.parse(readFileSync(out, 'utf8'));
      } catch {
        result = { name, error: signal ? `killed (${signal}) after ${seconds} s` : `exited ${code} without a result` };
      }
      // Stopped before its end after writing the rows so far (writeProgress, bench/verdicts.js): kept, and said unfinished.
      if (result.partial)
        result = { ...result, error: `${signal ? `killed (${signal})` : `exited ${code}`} after ${seconds} s, before its end (the rows so far are kept)` };
      rmSync(out, { force: true });
      // A write cut short by the kill (util.js writes beside the file, then renames).
      rmSync(`${out}.${child.pid}.tmp`, { force: true });
      const load = otherLoad(ticks, cpuTicks());
      if (load !== null && load > 10) process.stderr.write(`bench: other work kept ${load}% of the machine busy during ${name}; its figures are noisy\n`);
      resolve({ ...result, wallSeconds: seconds, otherLoadPercent: load });
    });
  });
}

const clamp = (n, lo, hi) => Math.min(hi, Math.max(lo, n));

// Wait (at most a minute) for other work on the machine to calm down, and say so when it does not.
{
  const quietBefore = Date.now();
  for (;;) {
    const a = cpuTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const load = otherLoad(a, cpuTicks());
    if (load === null || load < 10) break;
    if (Date.now() - quietBefore > 60_000) {
      process.stderr.write(`bench: the machine is still ${load}% busy with other work; running anyway (figures will be noisy)\n`);
      break;
    }
    process.stderr.write(`bench: waiting for other work to finish (${load}% of the machine busy)\n`);
  }
}
// With --only, the other benchmarks' figures are kept from the last run (each result carries its own date).
const file = path.join(RESULTS, 'latest.json');
let previous = {};
if (onlyArg && existsSync(file)) {
  try {
    previous = JSON.parse(readFileSync(file, 'utf8')).results ?? {};
  } catch {
    previous = {};
  }
}
const results = {};
const suiteStart = Date.now();
for (const name of selected) {
  if (stopped) break;
  process.stderr.write(`\n== ${name}${QUICK ? ' (quick)' : ''}\n`);
  const env = {};
  // Later benchmarks run at a share of the rate the throughput benchmark found, unless told otherwise.
  const max = (results.throughput ?? previous.throughput)?.engine?.maxSustainedRate;
  if (max && !process.env.BENCH_MEMORY_RATE) env.BENCH_MEMORY_RATE = String(clamp(Math.round((0.9 * max) / 100) * 100, 5000, 20_000));
  if (max && !process.env.BENCH_DASHBOARD_RATE) env.BENCH_DASHBOARD_RATE = String(clamp(Math.round((0.6 * max) / 100) * 100, 500, 20_000));
  results[name] = { ...(await runChild(name, env)), ranAt: new Date().toISOString(), quick: QUICK };
}
for (const name of ALL) {
  if (!results[name] && previous[name]) results[name] = previous[name];
}

// --- the table --------------------------------------------------------------------------------------------

const yes = (met) => (met === true ? 'yes' : met === false ? 'NO' : 'n/a');
function rows() {
  const out = [];
  const r = results;
  if (r.throughput) {
    const t = r.throughput;
    out.push(
      t.error
        ? ['throughput', t.error, '>= 0.7x autocannon', 'NO']
        : [
            'throughput',
            `engine ${t.engine.maxSustainedRate} req/s sustained (0 dropped) vs autocannon ${Math.round(t.autocannon.requestsPerSecond)} req/s (-c ${t.connections}): ${t.ratio}x; ` +
              (t.engine.withinOnePercent ? `within 1%: ${t.engine.withinOnePercent.rate} req/s (${t.engine.withinOnePercent.ratio}x); ` : '') +
              `offered ${t.engine.atAutocannonRate.offered}, completes ${Math.round(t.engine.atAutocannonRate.achieved)} (${t.engine.atAutocannonRate.ratio}x); ` +
              `0.7x of autocannon sustained right after it in ${t.pairedRoundsSustained ?? '?'} of ${t.rounds?.length ?? '?'} rounds`,
            '>= 0.7x autocannon',
            yes(t.met),
          ],
    );
  }
  if (r.schedule) {
    const s = r.schedule;
    out.push(
      s.error
        ? ['schedule', s.error, '', 'NO']
        : [
            'schedule',
            `${s.rate} req/s, ${s.upstreamDelayMs} ms upstream, ${s.seconds} s: achieved ${s.achievedRate} (${s.rateErrorPercent}%), lag p50 ${s.lagMs.p50} / p99 ${s.lagMs.p99} / max ${s.lagMs.max} ms, dropped ${s.dropped}`,
            'within 1%, p99 lag < 5 ms, 0 dropped',
            yes(s.met),
          ],
    );
  }
  if (r.memory) {
    const m = r.memory;
    out.push(
      m.error
        ? ['memory', m.error, '', 'NO']
        : [
            'memory',
            `RSS ${m.first?.rssMb} MB after ${m.first?.requests}, ${m.last?.rssMb ?? '?'} MB after ${m.last?.requests ?? '?'} (${m.rssGrowthPercent}%); heap used ${m.first?.heapUsedMb} -> ${m.last?.heapUsedMb ?? '?'} MB`,
            'RSS < 200 MB, growth < 10%',
            yes(m.met),
          ],
    );
  }
  if (r.dashboard) {
    const d = r.dashboard;
    out.push(
      d.error || d.skipped
        ? ['dashboard', d.error ?? d.note, '< 10% cost', 'n/a']
        : [
            'dashboard',
            `${d.rate} req/s: --plain ${d.plain.achievedRate} req/s (${d.plain.dropped} dropped) vs ${d.dashboard.reporter} reporter ${d.dashboard.achievedRate} (${d.dashboard.dropped} dropped): ` +
              `${d.throughputCostPercent}% throughput, ${d.cpuCostPercent}% CPU${d.dashboardDrew ? '' : ' [dashboard not wired in yet: measured the line reporter]'}` +
              (d.frame ? `; a frame ${d.frame.msPerFrame.p50} ms (p90 ${d.frame.msPerFrame.p90}), heap kept ${d.frame.heapKeptKbPerFrame} KB a frame` : ''),
            '< 10% throughput cost',
            yes(d.met),
          ],
    );
  }
  if (r.rollback) {
    const b = r.rollback;
    out.push(
      b.error
        ? ['rollback', b.error, '', 'NO']
        : [
            'rollback',
            `errors: ${b.errors.detectionMs.median} ms (max ${b.errors.detectionMs.max}) after the fault, ${b.errors.greenFailedBeforeRollback.max} green failures before; ` +
              `latency (3 s answers, 2 s limit): ${b.latency.detectionMs.median} ms (max ${b.latency.detectionMs.max}) after the fault, ` +
              `${b.latency.detectionAfterFirstSlowAnswerMs?.median} ms after the first slow answer`,
            `<= interval + 1 s (${b.target.withinMs} ms)`,
            yes(b.met),
          ],
    );
  }
  if (r.verdicts) {
    const v = r.verdicts;
    out.push(v.error ? ['verdicts', v.error, '', 'NO'] : ['verdicts', verdictFigures(v), '<= 1% false; 10x >= 99%, median <= fixed horizon', yes(v.met)]);
  }
  if (r.proxy) {
    const p = r.proxy;
    // null: no reading in one of the windows (a short RSS step), not "null%".
    const growthText = (/** @type {number | null} */ percent) => (percent === null ? 'no growth figure' : `${percent}%`);
    const at = (rate, mode) => p.fixed?.find((row) => row.rate === rate && row.mode === mode);
    const plain = at(1000, 'plain');
    const stream = at(1000, 'stream');
    // Pooled over the rounds since session 21 (the targets' figures); a result kept from an earlier run has medians.
    const added = plain?.addedPooled ?? plain?.added;
    const firstByte = stream?.addedFirstBytePooled ?? stream?.addedFirstByte;
    out.push(
      p.error
        ? ['proxy', p.error, '', 'NO']
        : [
            'proxy',
            `added at 1000 req/s p50 ${added?.proxy.p50} / p99 ${added?.proxy.p99} ms (bare pass-through ${added?.bare.p50} / ${added?.bare.p99}); ` +
              `streamed first byte +${firstByte?.proxy.p99} ms p99; sustained ${p.sustained.proxy.rate} vs bare ${p.sustained.bare.rate} req/s (${p.sustainedRatio === null ? 'no ratio: the pass-through sustained no step' : `${p.sustainedRatio}x`}` +
              // Since session 24 the medians of several searches, each search's rates beside.
              `${p.sustained.proxy.rates ? `; medians of ${p.sustainedSearches} searches: proxy ${p.sustained.proxy.rates.join('/')}, bare ${p.sustained.bare.rates.join('/')}` : ''}); ` +
              `RSS median ${mbText(p.rss.firstWindowMedianMb)} -> ${mbText(p.rss.lastWindowMedianMb)} (${growthText(p.rss.growthPercent)}, ${p.rss.first?.requests ?? 'none'} -> ${p.rss.last?.requests ?? 0} requests` +
              `${p.rssStep ? ` at ${p.rssStep.rate} req/s in ${p.rssStep.seconds} s` : ''})` +
              // Since session 22 the step runs in a time budget: one that ended short says so (its target is not met).
              (p.rss.reachedTotal === false
                ? ` [RSS measured to ${p.rss.last?.requests ?? 0} of ${p.rss.total} requests only: ${p.rssStep?.stoppedBy === 'time' ? "the step's time ran out" : 'no answer'}]`
                : '') +
              (p.rssAdmin
                ? `; with admin ${mbText(p.rssAdmin.firstWindowMedianMb)} -> ${mbText(p.rssAdmin.lastWindowMedianMb)} (${growthText(p.rssAdmin.growthPercent)}${p.rssAdmin.reachedTotal === false ? `, to ${p.rssAdmin.last?.requests ?? 0} requests` : ''})`
                : ''),
            'p50 <= 0.3 ms, p99 <= 2 ms, TTFT p99 <= 1 ms, >= 0.8x bare, RSS < 10%',
            yes(p.met),
          ],
    );
  }
  if (r.live) {
    const l = r.live;
    out.push(
      l.error
        ? ['live', l.error, '', 'NO']
        : [
            'live',
            `kill -9 of the controller: every one of ${l.kill.proxies} proxies on blue ${l.kill.worstMs} ms later (lease ${l.kill.leaseMs} ms); ` +
              `green failing 100% in stage 1: rolled back ${l.failing.rollbackAfterFaultMs} ms after the fault (interval ${l.failing.intervalMs} ms), ` +
              `${l.failing.applicationFailures} failed of ${l.failing.applicationRequests} application requests (${l.failing.fallbacks} fallbacks); ` +
              `controller overhead at ${l.overhead.proxies} x ${l.overhead.ratePerProxy} req/s: p50 ${l.overhead.addedP50Ms.median} ms added (noise ${l.overhead.addedP50Ms.noiseFloor}), ` +
              `p99 ${l.overhead.addedP99Ms.median} ms (noise ${l.overhead.addedP99Ms.noiseFloor}), controller CPU ${l.overhead.controllerCpuPercent}%, ` +
              `admin ${l.overhead.adminBytesPerProxySecond} B/s per proxy`,
            'blue <= lease + 1 s; 0 failed, rollback <= interval + 1 s',
            yes(l.met),
          ],
    );
  }
  if (r.startup) {
    const s = r.startup;
    const at = (name) => s.commands?.find((c) => c.name === name);
    const [bare, version, rollout, proxy] = ['node -e 0', '--version', 'rollout --dry-run', 'proxy: listening'].map(at);
    out.push(
      s.error
        ? ['startup', s.error, '', 'NO']
        : [
            'startup',
            `median of ${s.rounds}: --version ${version?.wallMs} ms (${version?.cpuMs} ms CPU, ${version?.loaded?.files} files; node -e 0 ${bare?.wallMs} ms), ` +
              `rollout --dry-run ${rollout?.wallMs} ms (${rollout?.cpuMs} ms CPU, ${rollout?.loaded?.files} files), proxy listening after ${proxy?.wallMs} ms`,
            'figures only (compare A/B: BENCH_STARTUP_BASE)',
            'n/a',
          ],
    );
  }
  return out;
}

/** When a row's figures were taken, in what mode, and how busy the machine was with other work meanwhile. */
function runNote(name) {
  const r = results[name];
  if (!r) return '';
  const when = r.ranAt ? r.ranAt.slice(0, 16).replace('T', ' ') : '';
  const load = r.otherLoadPercent === null || r.otherLoadPercent === undefined ? '' : `, other load ${r.otherLoadPercent}%`;
  return `${when}${r.quick ? ' quick' : ''}${load}`;
}

function table(data) {
  const head = ['benchmark', 'result', 'target', 'met', 'run (UTC)'];
  data = data.map((row) => [...row, runNote(row[0])]);
  const all = [head, ...data];
  const width = head.map((_, i) => Math.max(...all.map((row) => String(row[i]).length)));
  const line = (row) => `| ${row.map((cell, i) => String(cell).padEnd(width[i])).join(' | ')} |`;
  return [line(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...data.map(line)].join('\n');
}

const machine = machineInfo();
const ordered = Object.fromEntries(ALL.filter((name) => results[name]).map((name) => [name, results[name]]));
const summary = {
  machine,
  quick: QUICK,
  loadAverage: os.loadavg().map((n) => round(n, 2)),
  suiteSeconds: round((Date.now() - suiteStart) / 1000, 1),
  results: ordered,
};
mkdirSync(RESULTS, { recursive: true });
writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(
  `\nbluegreen benchmarks${QUICK ? ' (quick)' : ''} on ${machine.cpuModel}, ${machine.cores} cores, node ${machine.node}, ${machine.date}\n\n`,
);
process.stdout.write(`${table(rows())}\n\nsuite: ${summary.suiteSeconds} s; results in ${path.relative(process.cwd(), file) || file}\n`);
const failed = Object.values(results).some((r) => r.error);
// An interrupted run keeps its signal's code (130, 143) over the targets' verdict.
if (!stopped) process.exitCode = failed ? 1 : 0;

/**
 * The verdict row's figures from the rows a run has: a run narrowed by BENCH_VERDICT_MATCH may have no healthy row
 * or no 10x errors row, and says what it has rather than throw.
 */
function verdictFigures(v) {
  const parts = [];
  const healthy = v.healthy.filter(Boolean);
  if (healthy.length > 0) {
    const worst = healthy.reduce((a, b) => (b.new.rolledBackPercent > a.new.rolledBackPercent ? b : a));
    parts.push(
      `false rollbacks <= ${worst.new.rolledBackPercent}% over ${v.healthyRollouts} healthy rollouts per plan (old rules up to ${Math.max(...healthy.map((h) => h.old.rolledBackPercent))}%)`,
    );
  }
  const ten = v.regressions.find((x) => x?.name.startsWith('errors 10x'));
  const fh = v.fixedHorizon.find((x) => x?.name.startsWith('errors 10x'));
  if (ten && fh)
    parts.push(`10x errors caught in ${ten.new.rolledBackPercent}%, median ${ten.new.greenRequests.median} green requests (fixed horizon ${fh.nAtCheckAlpha})`);
  return parts.length > 0 ? parts.join('; ') : 'no healthy row nor a 10x errors row in this run';
}
