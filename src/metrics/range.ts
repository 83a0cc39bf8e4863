// The latency range every histogram and bucket set records: apart from histogram.ts so that what only needs the
// bound (the buckets, the figures' formatting: validate, status) does not load HdrHistogram at start.

/** One hour: longer than any request timeout; anything above is clamped rather than thrown. */
export const HIGHEST_MICROS = 3_600_000_000;
