import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Only a hang waits this long: tests wait for events. On a loaded 2-core machine (load 20) each `node` start
    // takes seconds of CPU, and a test that starts five processes took 28-37 s, past the 30 s this was.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time on the 2-core CI machine (vitest's default there is one): 2m50s instead of 4m25s for the
    // whole suite. Every test synchronises on events, not time, so sharing the cores only makes them slower.
    maxWorkers: 2,
    globalSetup: ['./test/helpers/global-setup.ts'],
    // Colours only on a terminal; the last line is always a plain "N passed, N failed" summary.
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
