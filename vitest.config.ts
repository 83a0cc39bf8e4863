import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two files at a time on the 2-core CI machine (vitest's default there is one): 2m50s instead of 4m25s for the
    // whole suite. Every test synchronises on events, not time, so sharing the cores only makes them slower.
    maxWorkers: 2,
    globalSetup: ['./test/helpers/global-setup.ts'],
    // Colours only on a terminal; the last line is always a plain "N passed, N failed" summary.
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
