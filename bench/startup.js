// 9. Start-up: how long `bin/bluegreen.js` takes to answer the commands operators and CI run most, and how long a
// `bluegreen proxy` restart takes to listen again. Each command is started ROUNDS times; the figure is the median
// wall time (spawn to exit, or to the proxy's "listening on" line) and the median CPU the process used, with
// `node -e 0` as the floor no command can beat. One run per command under a module load hook (in every thread: the
// proxy's plan loader's worker too) counts the files it loads: since session 34 most are chunks of the CLI's bundle,
// each holding many modules, so the modules they stand for are counted too (through the chunks' source maps).
//   BENCH_STARTUP_BASE=/path/to/another/checkout: the same commands from that checkout (built), interleaved run by
//   run with this one's, and each median's ratio this/base: the way to compare two builds on a busy machine.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUICK, envNumber, log, machineInfo, round, writeResult } from './lib/util.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = envNumber('BENCH_STARTUP_ROUNDS', QUICK ? 3 : 10);
const BASE = process.env.BENCH_STARTUP_BASE ? path.resolve(process.env.BENCH_STARTUP_BASE) : undefined;
const TICK_MS = 1000 / 100;
/** Until a run is given up: a hang must not keep the benchmark running. */
const RUN_LIMIT_MS = 60_000;

/** What is started, in the order of the table. `until` ends a long-running command at a line of its stderr. */
const COMMANDS = [
  { name: 'node -e 0', args: () => ['-e', '0'], bare: true },
  { name: '--version', args: (bin) => [bin, '--version'] },
  { name: '--help', args: (bin) => [bin, '--help'] },
  { name: 'rollout --help', args: (bin) => [bin, 'rollout', '--help'] },
  { name: 'status (no state)', args: (bin, dir) => [bin, 'status', '--state-dir', path.join(dir, 'empty')], exit: 2 },
  { name: 'validate demo.yaml', args: (bin) => [bin, 'validate', 'rollouts/demo.yaml'] },
  { name: 'rollout --dry-run', args: (bin, dir) => [bin, 'rollout', 'rollouts/demo.yaml', '--dry-run', '--state-dir', path.join(dir, 'dry')] },
  {
    name: 'proxy: listening',
    args: (bin, dir) => [
      bin,
      'proxy',
      'rollouts/demo-live.yaml',
      '--listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
      '--state-dir',
      path.join(dir, 'proxy'),
    ],
    env: { BLUEGREEN_ADMIN_TOKEN: 'bench-admin-token' },
    until: /listening on /,
    exit: 143,
  },
];

/** CPU ticks (user + system) of this process's reaped children: read before and after a run, the run's own CPU. */
function childTicks() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

/** One start of a command from a checkout: wall ms to its exit (or its `until` line), CPU ms, exit code. */
function runOnce(command, checkout, dir) {
  const bin = path.join(checkout, 'bin', 'bluegreen.js');
  const before = childTicks();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command.args(bin, dir), {
      cwd: checkout,
      env: { ...process.env, ...command.env, CI: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let wallMs;
    let stderr = '';
    const limit = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (command.until && wallMs === undefined && command.until.test(stderr)) {
        wallMs = performance.now() - started;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      wallMs ??= performance.now() - started;
      const expected = command.exit ?? 0;
      if (code !== expected) return reject(new Error(`${command.name} from ${checkout} exited ${code ?? signal}, not ${expected}: ${stderr.slice(0, 500)}`));
      resolve({ wallMs, cpuMs: (childTicks() - before) * TICK_MS, stderr });
    });
  });
}

/** The modules a chunk of the bundle holds: the sources its map names (none for rolldown's own runtime). */
function modulesInChunk(file) {
  const map = `${file}.map`;
  return existsSync(map) ? JSON.parse(readFileSync(map, 'utf8')).sources.length : 0;
}

/**
 * What a command loads from disk, counted by a load hook that names each URL on stderr: files (Node's own modules left
 * out), of which chunks of dist/bundle/, tsc's files of dist/ one by one, and packages' files; and the modules those
 * stand for (a chunk for those it holds), comparable with the counts from before the bundle.
 */
async function filesLoaded(command, checkout, dir) {
  const hook = `export async function load(url, context, next) { process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }`;
  const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));`;
  const counting = { ...command, args: (bin, d) => ['--import', `data:text/javascript,${encodeURIComponent(register)}`, ...command.args(bin, d)] };
  const { stderr } = await runOnce(counting, checkout, dir);
  const files = [...stderr.matchAll(/^LOADED (file:\S+)$/gm)].map((m) => fileURLToPath(m[1]));
  // Loaded modules are named by their real path.
  const dist = path.join(realpathSync(checkout), 'dist') + path.sep;
  const bundle = path.join(dist, 'bundle') + path.sep;
  const chunks = files.filter((file) => file.startsWith(bundle));
  return {
    files: files.length,
    chunks: chunks.length,
    tscFiles: files.filter((file) => file.startsWith(dist) && !file.startsWith(bundle)).length,
    packageFiles: files.filter((file) => file.includes(`${path.sep}node_modules${path.sep}`)).length,
    modules: files.length - chunks.length + chunks.reduce((sum, file) => sum + modulesInChunk(file), 0),
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const checkouts = BASE ? [ROOT, BASE] : [ROOT];
const dirs = checkouts.map(() => mkdtempSync(path.join(os.tmpdir(), 'bluegreen-bench-startup-')));
/** @type {{ wallMs: number, cpuMs: number }[][][]} runs[command][checkout] */
const runs = COMMANDS.map(() => checkouts.map(() => []));
log(`${ROUNDS} rounds of ${COMMANDS.length} commands${BASE ? `, interleaved with ${BASE}` : ''}; load average ${os.loadavg()[0].toFixed(1)}`);
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [c, command] of COMMANDS.entries()) {
      // Alternate which checkout goes first, so neither always runs right after the other's warm-up.
      const order = round % 2 ? [...checkouts.keys()].reverse() : [...checkouts.keys()];
      for (const k of order) runs[c][k].push(await runOnce(command, checkouts[k], dirs[k]));
    }
  }
  const loaded = [];
  for (const command of COMMANDS)
    loaded.push(command.bare ? undefined : await Promise.all(checkouts.map((checkout, k) => filesLoaded(command, checkout, dirs[k]))));
  const commands = COMMANDS.map((command, c) => {
    const figures = checkouts.map((_, k) => ({
      wallMs: round(median(runs[c][k].map((r) => r.wallMs)), 0),
      cpuMs: round(median(runs[c][k].map((r) => r.cpuMs)), 0),
      ...(loaded[c] && { loaded: loaded[c][k] }),
    }));
    const [head, base] = figures;
    return {
      name: command.name,
      ...head,
      ...(base && { base, ratio: { wall: round(head.wallMs / base.wallMs, 2), cpu: round(head.cpuMs / base.cpuMs, 2) } }),
    };
  });
  for (const c of commands) {
    const vs = c.base ? ` (base ${c.base.wallMs} ms / ${c.base.cpuMs} ms CPU: ${c.ratio.wall}x wall, ${c.ratio.cpu}x CPU)` : '';
    const l = c.loaded;
    const files = l ? `, ${l.files} files (${l.chunks} chunks, ${l.tscFiles} of tsc's dist/, ${l.packageFiles} of packages) for ${l.modules} modules` : '';
    log(`${c.name.padEnd(20)} ${String(c.wallMs).padStart(5)} ms, CPU ${String(c.cpuMs).padStart(5)} ms${files}${vs}`);
  }
  writeResult({ name: 'startup', machine: machineInfo(), rounds: ROUNDS, base: BASE ?? null, loadAverage: os.loadavg().map((n) => round(n, 2)), commands });
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
