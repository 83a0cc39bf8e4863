import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    globalSetup: ['./test/helpers/global-setup.ts'],
    // Colours only on a terminal; the last line is always a plain "N passed, N failed" summary.
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
