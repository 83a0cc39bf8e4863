// The proxy benchmark's RSS step in a time budget (bench/proxy.js): how many requests each of its two proxies takes
// next, so the step ends before bench/run.js's limit whatever the rate the proxy sustained, and the plain proxy (the
// one the target reads) gets its requests before the admin one. Apart from the benchmark so it can be tested with
// made-up paces (test/bench/rss-budget.test.ts).

/** Fewer requests than this left to give a proxy in the time left: it gets none (one reading would say nothing). */
export const MIN_RUN = 1000;

/**
 * The requests each proxy runs next (0: none; both 0: the step is over). The time left is counted in requests at the
 * step's pace so far (its runs' overheads included): the plain proxy takes a chunk of what is left to its `total`
 * while any fits; the admin proxy takes one only while the plain proxy's remaining requests still fit after it.
 * @param {{ served: { plain: number; admin: number }; total: number; chunk: number; secondsLeft: number; secondsPerRequest: number }} o
 * @returns {{ plain: number; admin: number }}
 */
export function nextRssRuns({ served, total, chunk, secondsLeft, secondsPerRequest }) {
  // Rounded, not floored: a pace read off a division must not lose the last request of a budget that holds them all.
  const fits = Math.max(0, Math.round(secondsLeft / secondsPerRequest));
  const plainLeft = Math.max(0, total - served.plain);
  const plain = Math.min(chunk, plainLeft, fits);
  const admin = Math.min(chunk, Math.max(0, total - served.admin), fits - plainLeft);
  return { plain: plain >= MIN_RUN ? plain : 0, admin: admin >= MIN_RUN ? admin : 0 };
}

/**
 * The step's pace in seconds a request: its wall time so far over the requests both proxies answered in it, and the
 * rate's own before the first run (or when a slower pace is not yet seen).
 * @param {{ rate: number; elapsedSeconds: number; answered: number }} o
 */
export const rssPace = ({ rate, elapsedSeconds, answered }) => Math.max(1 / rate, answered > 0 ? elapsedSeconds / answered : 0);
