// How long bench/run.js lets each benchmark run before it kills it (halved with --quick): a hang cannot keep the
// suite running. A benchmark that paces itself (the proxy's RSS step) reads its own from here when run alone, and
// the deadline bench/run.js passes (BENCH_DEADLINE) when not.
const LIMIT_MS = {
  throughput: 300_000,
  schedule: 120_000,
  memory: 360_000,
  dashboard: 180_000,
  rollback: 240_000,
  // ~30 CPU minutes: ~30 min on a quiet core, ~75 at load 10 (bench/verdicts.js --help); 40 killed it on a loaded
  // machine. Killed all the same, it keeps the rows done so far (written after each).
  verdicts: 5_400_000,
  proxy: 1_080_000,
  live: 420_000,
  startup: 600_000,
};

/** @param {string} name @param {boolean} quick */
export const limitMs = (name, quick) => LIMIT_MS[/** @type {keyof typeof LIMIT_MS} */ (name)] * (quick ? 0.5 : 1);
