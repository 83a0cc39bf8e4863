import { defineConfig } from 'vitest/config';

const ALL = ['test/**/*.test.ts', 'test/**/*.test.tsx'];
// Every file shares a worker (project 'shared', isolate: false): each of the two workers imports src/ and its
// libraries once and runs file after file in the same process. A fresh worker per file paid that import again before
// a test ran: about a CPU-second a file (measured over 64 files), up to 3 s for the heaviest. Files that start
// processes (the CLI, proxies, hooks, npm, tmux) share as well: their children are their own, and stopped by the end
// of each test.
// A file is isolated only when it must change process-wide state that the files after it would see and cannot put
// it back (docs/testing.md): process.env read once by a library, the cwd, a signal handler on this process, a
// library's module state, a global. List it here, saying which. None does now: the dashboard tests that set
// FORCE_COLOR before chalk loaded set chalk's level for their own tests instead (test/report/ink/force-colour.ts).
const ISOLATED: string[] = [];

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
      // Each worker imports src/ once and runs file after file in it.
      { extends: true, test: { name: 'shared', include: ALL, exclude: ISOLATED, isolate: false } },
      // A fresh worker process per file, for the files that must have one.
      ...(ISOLATED.length > 0 ? [{ extends: true, test: { name: 'isolated', include: ISOLATED } }] : []),
    ],
  },
});
