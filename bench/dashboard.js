// 4. Dashboard cost: the real `bluegreen rollout` binary against the loopback upstream, once drawing its
// dashboard into a pseudo-terminal and once with --plain (the line reporter) in the same pseudo-terminal.
// Throughput and drops come from `bluegreen status --json`; CPU from the process's own accounting.
// Which reporter actually drew is read from the terminal output (the dashboard redraws in place with cursor
// movements; the line reporter only appends lines), so the figures say what they measured.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_KEY, BENCH_KEY_ENV, loopbackPlanYaml, tempDir, writePlanFile } from './lib/plan.js';
import { startUpstream } from './lib/upstream.js';
import { QUICK, envNumber, log, round, writeResult } from './lib/util.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'bluegreen.js');
const WRAP = path.join(ROOT, 'bench', 'lib', 'cpu-wrap.js');
const RATE = envNumber('BENCH_DASHBOARD_RATE', 5000);
const DURATION_MS = envNumber('BENCH_DASHBOARD_MS', QUICK ? 6000 : 15_000);
const WARMUP_MS = envNumber('BENCH_WARMUP_MS', 2000);
const MAX_IN_FLIGHT = envNumber('BENCH_CONNECTIONS', 100);
const COLUMNS = 120;
const ROWS = 40;

function hasScript() {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const shellQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** Environment of an operator's terminal: no CI markers, a real TERM. */
function terminalEnv() {
  const env = { ...process.env, TERM: 'xterm-256color', COLUMNS: String(COLUMNS), LINES: String(ROWS), [BENCH_KEY_ENV]: BENCH_KEY };
  for (const name of ['CI', 'GITHUB_ACTIONS', 'BUILDKITE', 'GITLAB_CI', 'CONTINUOUS_INTEGRATION', 'NO_COLOR', 'FORCE_COLOR', 'BLUEGREEN_STATE_DIR'])
    delete env[name];
  return env;
}

/** One rollout under a pty; resolves with what status --json and the wrapper report. */
function runUnderPty(planFile, plain) {
  const dir = tempDir('bluegreen-bench-dash-');
  const stateDir = path.join(dir, 'state');
  const typescript = path.join(dir, 'terminal.out');
  const costFile = path.join(dir, 'cost.json');
  const inner = [
    process.execPath,
    WRAP,
    costFile,
    process.execPath,
    BIN,
    'rollout',
    planFile,
    '--state-dir',
    stateDir,
    '--seed',
    '7',
    ...(plain ? ['--plain'] : []),
  ]
    .map(shellQuote)
    .join(' ');
  const command = `stty cols ${COLUMNS} rows ${ROWS} 2>/dev/null; exec ${inner}`;
  const limitMs = WARMUP_MS + DURATION_MS + 60_000;
  return new Promise((resolve, reject) => {
    // stdin stays an open pipe (never written): keys are the dashboard's, and an EOF would end script early.
    const child = spawn('script', ['-qfec', command, typescript], { cwd: ROOT, env: terminalEnv(), stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGTERM'), limitMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      try {
        const cost = existsSync(costFile) ? JSON.parse(readFileSync(costFile, 'utf8')) : {};
        const status = JSON.parse(
          execFileSync(process.execPath, [BIN, 'status', '--json', '--state-dir', stateDir], { cwd: ROOT, env: terminalEnv(), encoding: 'utf8' }),
        );
        const output = existsSync(typescript) ? readFileSync(typescript, 'latin1') : '';
        resolve({ code, cost, status, output, stderr });
      } catch (error) {
        reject(
          new Error(
            `${plain ? 'plain' : 'dashboard'} run failed (exit ${code}): ${error instanceof Error ? error.message : String(error)}\n${stderr.slice(-1000)}`,
          ),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

function count(text, needle) {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

function summarise(label, run) {
  const stages = run.status.stages;
  const stage = stages[stages.length - 1];
  const arms = [stage.arms.blue, stage.arms.green];
  const requests = arms.reduce((n, a) => n + a.requests, 0);
  const dropped = arms.reduce((n, a) => n + a.dropped, 0);
  const failures = arms.reduce((n, a) => n + a.failures, 0);
  const allRequests = stages.reduce((n, s) => n + s.arms.blue.requests + s.arms.green.requests, 0);
  const stageMs = stage.endedAt - stage.startedAt;
  // Redrawing in place is what a dashboard does; appending lines is what the line reporter does.
  const cursorMoves = count(run.output, '\x1b[1A') + count(run.output, '\x1b[2K') + count(run.output, '\x1b[H');
  const lines = count(run.output, '\n');
  const reporter = cursorMoves > 0 ? 'dashboard' : 'line';
  const row = {
    label,
    reporter,
    exitCode: run.status.exitCode ?? run.code,
    phase: run.status.phase,
    achievedRate: round(requests / (stageMs / 1000), 1),
    requests,
    dropped,
    failures,
    cpuMs: run.cost.cpuMs ?? null,
    cpuUsPerRequest: run.cost.cpuMs ? round((run.cost.cpuMs * 1000) / Math.max(1, allRequests), 1) : null,
    wallMs: run.cost.wallMs ?? null,
    terminalBytes: run.output.length,
    terminalLines: lines,
    cursorMoves,
  };
  log(
    `${label.padEnd(9)} (${reporter} reporter drew): achieved ${row.achievedRate} req/s, dropped ${dropped}, failed ${failures}, ` +
      `CPU ${row.cpuUsPerRequest} µs/req, ${row.terminalBytes} bytes to the terminal, exit ${row.exitCode}`,
  );
  return row;
}

if (!hasScript()) {
  writeResult({ name: 'dashboard', skipped: true, note: 'script(1) from util-linux is needed to give the CLI a pseudo-terminal', met: null });
  process.exit(0);
}

const upstream = await startUpstream({ delayMs: 0 });
const planFile = writePlanFile(
  loopbackPlanYaml({
    baseUrl: upstream.baseUrl,
    rate: RATE,
    durationMs: DURATION_MS,
    warmupMs: WARMUP_MS,
    maxInFlight: MAX_IN_FLIGHT,
    name: 'bench-dashboard',
  }),
);
log(`dashboard: ${RATE} req/s, ${WARMUP_MS / 1000} s warm-up + ${DURATION_MS / 1000} s measured, in a ${COLUMNS}x${ROWS} pseudo-terminal`);
const plain = summarise('--plain', await runUnderPty(planFile, true));
const dashboard = summarise('dashboard', await runUnderPty(planFile, false));
await upstream.close();

// One frame on its own (bench/tools/dashboard-frame.js): its event-loop cost, and the heap it keeps for good.
log('dashboard: one frame, 2,000 times, in an in-memory terminal');
const frame = JSON.parse(
  execFileSync(process.execPath, ['--expose-gc', path.join(ROOT, 'bench/tools/dashboard-frame.js'), QUICK ? '500' : '2000'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .trim()
    .split('\n')
    .at(-1) ?? '',
);
log(`dashboard frame: p50 ${frame.msPerFrame.p50} ms, p90 ${frame.msPerFrame.p90} ms, heap kept ${frame.heapKeptKbPerFrame} KB a frame`);

const throughputCost = plain.achievedRate > 0 ? (plain.achievedRate - dashboard.achievedRate) / plain.achievedRate : null;
const cpuCost = plain.cpuUsPerRequest && dashboard.cpuUsPerRequest ? dashboard.cpuUsPerRequest / plain.cpuUsPerRequest - 1 : null;
const dashboardDrew = dashboard.reporter === 'dashboard';
writeResult({
  name: 'dashboard',
  rate: RATE,
  seconds: DURATION_MS / 1000,
  plain,
  dashboard,
  dashboardDrew,
  frame,
  throughputCostPercent: throughputCost === null ? null : round(100 * throughputCost, 1),
  cpuCostPercent: cpuCost === null ? null : round(100 * cpuCost, 1),
  target: { throughputCostPercent: 10 },
  // Not judged until the dashboard is what drew: two line-reporter runs say nothing about its cost.
  met: dashboardDrew ? throughputCost !== null && throughputCost < 0.1 : null,
  note: dashboardDrew
    ? undefined
    : 'the rollout without --plain drew with the line reporter: the Ink dashboard is not wired into chooseReporter yet; rerun once it is',
});
