import { readdirSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Files that cannot share a worker's module graph and process with other files (see docs/testing.md): they run the
// CLI or a proxy as child processes (their time is in those processes, so a fresh worker costs them little, and
// some signal or wait on process-wide state), or set process.env before the libraries they test read it once.
// Every other file shares: vitest's import of src/ and its libraries, paid once per worker instead of once per
// file, was most of the suite's time.
const ALL = ['test/**/*.test.ts', 'test/**/*.test.tsx'];
// Files in those folders that run everything in this process (rollouts, proxies and simulators in-process, closed
// after each test; no signal, env or cwd of their own, no `bluegreen` process; at most a hook's shell or a dead pid's
// `node -e ''`, waited for): isolated, each paid a fresh worker's import of src/ and its libraries (1.5-3 s of CPU
// each) for nothing. The files elsewhere that start only such short processes share too.
const IN_PROCESS = new Set([
  'test/live/admin-url-wrong-service.test.ts',
  'test/live/client-aborts.test.ts',
  'test/live/dashboard.test.ts',
  'test/live/dry-run.test.ts',
  'test/live/generated.test.ts',
  'test/live/late-results.test.ts',
  'test/live/live-source.test.ts',
  'test/live/promoted.test.ts',
  'test/live/promotion-partial.test.ts',
  'test/live/renewal-after-ending.test.ts',
  'test/live/rerun.test.ts',
  'test/live/rollback-retries-edges.test.ts',
  'test/live/rollback-retries-promoted.test.ts',
  'test/live/rollout.test.ts',
  'test/live/stage-end-catch-up.test.ts',
  'test/live/stage-end-in-flight.test.ts',
  'test/live/stage-end-pages.test.ts',
  'test/hostile/client-credential-headers.test.ts',
  'test/hostile/lease-clock.test.ts',
  'test/hostile/pipelined-client-gone.test.ts',
  'test/hostile/plan-edges.test.ts',
  'test/e2e/rollback-triggers.test.ts',
  'test/e2e/verdicts.test.ts',
  'test/hostile/ending-on-full-disk.test.ts',
  'test/hostile/hook-background.test.ts',
  'test/hostile/hook-env-limits.test.ts',
  'test/hostile/hook-output-secret.test.ts',
  'test/hostile/rollback-other-plan.test.ts',
  'test/hostile/route-unsaved.test.ts',
  'test/hostile/state-stage-past-end.test.ts',
  'test/hostile/webhook-credentials.test.ts',
  'test/hostile/weight-shown.test.ts',
  'test/live/admin-call-suspended.test.ts',
  'test/live/promotion-declined.test.ts',
  'test/live/promotion-read-back.test.ts',
  'test/live/proxy-actuator.test.ts',
  'test/live/recovery-edges.test.ts',
  'test/live/rollback-promoted.test.ts',
]);
/** A folder's test files, but those in IN_PROCESS. */
function startingProcesses(folder: string): string[] {
  const files = readdirSync(path.join(import.meta.dirname, folder)).filter((name) => /\.test\.tsx?$/.test(name));
  return files.map((name) => `${folder}/${name}`).filter((file) => !IN_PROCESS.has(file));
}
const ISOLATED = [
  // Whole folders whose tests start `bin/bluegreen.js` (rollouts, proxies, terminals), but their IN_PROCESS files.
  ...['test/e2e', 'test/live', 'test/hostile', 'test/tty'].flatMap(startingProcesses),
  // Files elsewhere that start processes.
  'test/cli/output-pipe.test.ts',
  'test/cli/production-ui.test.ts',
  'test/cli/status-output.test.ts',
  'test/upstream/proxy-env.test.ts',
  'test/review/orphan-review15.test.ts',
  // FORCE_COLOR=1 before chalk loads: chalk fixes its colour level once, at import.
  'test/report/ink/dashboard.test.tsx',
  'test/report/ink/live-dashboard.test.tsx',
  'test/report/ink/rollout-dashboard.test.ts',
];

export default defineConfig({
  test: {
    // Only a hang waits this long: tests wait for events. On a loaded 2-core machine (load 20) each `node` start
    // takes seconds of CPU, and a test that starts five processes took 28-37 s, past the 30 s this was; at load 30-45
    // single steps (a start through `npm exec`) took over 30 s, the wait of `until()` then, inside tests of 60 s.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at a time on the 2-core CI machine (vitest's default there is one): 2m50s instead of 4m25s for the
    // whole suite. Every test synchronises on events, not time, so sharing the cores only makes them slower.
    maxWorkers: 2,
    globalSetup: ['./test/helpers/global-setup.ts'],
    // Colours only on a terminal; the last line is always a plain "N passed, N failed" summary.
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      // In-process tests: each worker imports src/ once and runs file after file in it.
      { extends: true, test: { name: 'shared', include: ALL, exclude: ISOLATED, isolate: false } },
      // A fresh worker process per file.
      { extends: true, test: { name: 'isolated', include: ISOLATED } },
    ],
  },
});
